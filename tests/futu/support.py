"""Helpers for the Futu tests: a sim-opend process, the raw OpenD wire, order helpers."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

from tests.support import ToolProcess
from wsbridge.client import Client
from wsbridge.simulators.opend import protocol, protos

READY = re.compile(r"sim-opend ready: (\S+):(\d+)")
START_TIMEOUT = 60.0


class SimOpend(ToolProcess):
    """``python -m wsbridge sim-opend`` on a free (or given) loopback port."""

    ready_pattern = re.compile(r"sim-opend ready: (\S+):(\d+)")

    def __init__(self, workdir: Path, journal: bool = True, name: str = "sim-opend") -> None:
        super().__init__(workdir, name)
        self.journal = str(self.workdir / f"{name}.sqlite") if journal else None

    def argv(self, port: int) -> list[str]:
        return ["sim-opend", "--port", str(port), "--tick-ms", "200",
                *(["--journal", self.journal] if self.journal else [])]

    def stop(self) -> int:
        return self.terminate()


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (for futu-api's threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# --- the raw OpenD wire ------------------------------------------------------------

def exchange_packets(port: int, *packets: bytes, count: int) -> list[protocol.Packet]:
    reader = protocol.PacketReader()
    got: list[protocol.Packet] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for packet in packets:
            sock.sendall(packet)
        while len(got) < count:
            data = sock.recv(65536)
            if not data:
                break
            got.extend(reader.feed(data))
    return got


def request(proto_id: int, serial: int, fmt: int = protocol.FMT_PROTOBUF, **c2s) -> bytes:
    message = protos.request_class(proto_id)()
    for key, value in c2s.items():
        setattr(message.c2s, key, value)
    return protocol.encode_packet(proto_id, serial, protocol.serialize_body(message, fmt), fmt)


def response(packet: protocol.Packet):
    return protocol.parse_body(protos.response_class(packet.proto_id), packet.body, packet.fmt)


# --- websocket clients -------------------------------------------------------------

USERS = {"alice": "secret"}


def futu_config(port: int, **extra) -> dict:
    return {"backend": "futu",
            "futu": {"port": port, "users": USERS, "reconnect_delay": 0.2,
                     "reconnect_max_delay": 1.0, **extra}}


def on_tick(price: float, tick: float) -> float:
    return round(round(price / tick) * tick, 6)


async def limit_price(td: Client, instrument: str, through: float) -> float:
    """A limit price ``through`` times the ask (above 1 crosses; 0.9 rests below the bid)."""
    (inst,) = await td.query("ReqQryInstrument", {"InstrumentID": instrument})
    (depth,) = await td.query("ReqQryDepthMarketData", {"InstrumentID": instrument})
    assert depth["AskPrice1"] > depth["BidPrice1"] > 0
    return on_tick(depth["AskPrice1"] * through, inst["PriceTick"])


def order(ref: str, price: float, volume: int = 100, direction: str = "0",
          instrument: str = "00700", exchange: str = "HKEX", **extra) -> dict:
    return {"InstrumentID": instrument, "ExchangeID": exchange, "OrderRef": ref,
            "Direction": direction, "CombOffsetFlag": "0" if direction == "0" else "1",
            "CombHedgeFlag": "1", "OrderPriceType": "2", "LimitPrice": price,
            "VolumeTotalOriginal": volume, "TimeCondition": "3", "VolumeCondition": "1",
            "ContingentCondition": "1", **extra}


def mine(client: Client, ref: str):
    session = client.session
    return lambda m: (m.get("Order") or m.get("Trade") or {}).get("OrderRef") == ref and (
        "Trade" in m or m["Order"]["SessionID"] == session["SessionID"])
