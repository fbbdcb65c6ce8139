"""sim-opend's TCP server: connections, InitConnect / KeepAlive, dispatch, pushes.

Each client connection sends OpenD packets; the server answers each with the protocol's
Response (same proto id and serial number) and pushes quote and trade updates to the
connections that asked for them. A timer runs the sim exchange forward every market tick;
its events become Trd_UpdateOrder / Trd_UpdateOrderFill pushes, its new prices
Qot_UpdateBasicQot / Qot_UpdateOrderBook pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from wsbridge.simulators.opend import protocol, protos
from wsbridge.simulators.opend.protocol import Refusal
from wsbridge.simulators.opend.quotes import QuoteService
from wsbridge.simulators.opend.trading import TradeService
from wsbridge.simulators.opend.venue import LOGIN_USER_ID, Venue

log = logging.getLogger("wsbridge.sim_opend")

SERVER_VERSION = 1000  # reported as OpenD 10.00
KEEP_ALIVE_INTERVAL = 10  # seconds; futu-api sends KeepAlive at 4/5 of it
MAX_BUFFERED = 8 * 1024 * 1024  # a client this far behind on pushes is dropped
PACKET_ENC_NONE = -1


@dataclass(eq=False)
class Connection:
    """One API client."""

    conn_id: int
    writer: asyncio.StreamWriter
    reader: protocol.PacketReader = field(default_factory=protocol.PacketReader)
    ready: bool = False  # InitConnect done
    push_fmt: int = protocol.FMT_PROTOBUF
    subs: dict[str, set[int]] = field(default_factory=dict)  # code -> SubTypes
    pushes: dict[str, set[int]] = field(default_factory=dict)  # code -> SubTypes pushed
    acc_push: set[int] = field(default_factory=set)  # accounts whose trades are pushed
    closed: bool = False

    def send(self, proto_id: int, serial_no: int, message: Any, fmt: int) -> None:
        body = protocol.serialize_body(message, fmt)
        self.write(protocol.encode_packet(proto_id, serial_no, body, fmt))

    def write(self, packet: bytes) -> None:
        if self.closed:
            return
        self.writer.write(packet)
        if self.writer.transport.get_write_buffer_size() > MAX_BUFFERED:
            log.warning("conn %s: not reading its pushes; closing", self.conn_id)
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()


# A handler answers with the Response's s2c (a dict of protobuf fields) and optionally
# work to do once the answer is on the wire (first pushes, trade pushes).
Handler = Callable[[Connection, Any], "dict | tuple[dict, Callable[[], None]]"]


class OpenDServer:
    """The simulator: one venue, any number of API connections."""

    def __init__(self, venue: Venue, unlock_md5: str, tick_seconds: float = 0.5) -> None:
        self.venue = venue
        self.tick_seconds = tick_seconds
        self.connections: set[Connection] = set()
        self._conn_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 1)
        self._serials = itertools.count(1)
        self.quotes = QuoteService(self)
        self.trading = TradeService(self, unlock_md5)
        self.handlers: dict[int, Handler] = {
            protos.GET_GLOBAL_STATE: self._global_state,
            **self.quotes.handlers(),
            **self.trading.handlers(),
        }
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task | None = None

    # --- running ----------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen; returns the bound (host, port)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        self.venue.close()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                self.trading.dispatch(self.venue.exchange.advance(time.time()))
                self.quotes.push_changes()
            except Exception:
                log.exception("market tick failed")

    # --- connections ------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(next(self._conn_ids), writer)
        self.connections.add(conn)
        peer = writer.get_extra_info("peername")
        log.info("conn %s: connected from %s", conn.conn_id, peer)
        try:
            while not conn.closed:
                data = await reader.read(64 * 1024)
                if not data:
                    break
                for packet in conn.reader.feed(data):
                    self._answer(conn, packet)
        except protocol.ProtocolError as exc:
            log.warning("conn %s: %s; closing", conn.conn_id, exc)
        except (ConnectionError, OSError):
            pass
        finally:
            self.connections.discard(conn)
            conn.close()
            log.info("conn %s: closed", conn.conn_id)

    def _answer(self, conn: Connection, packet: protocol.Packet) -> None:
        proto_id, fmt = packet.proto_id, packet.fmt
        response = protos.response_class(proto_id)()
        after: Callable[[], None] | None = None
        try:
            request_class = protos.request_class(proto_id)
            if request_class is None:
                raise Refusal(f"protocol {proto_id} is not supported by sim-opend")
            try:
                request = protocol.parse_body(request_class, packet.body, fmt)
            except ValueError as exc:
                raise Refusal(f"invalid request: {exc}") from None
            if proto_id == protos.INIT_CONNECT:
                s2c = self._init_connect(conn, request.c2s)
            elif proto_id == protos.KEEP_ALIVE:
                s2c = {"time": int(time.time())}
            elif not conn.ready:
                raise Refusal("send InitConnect first")
            else:
                handler = self.handlers.get(proto_id)
                if handler is None:
                    raise Refusal(f"protocol {proto_id} is not supported by sim-opend")
                result = handler(conn, request.c2s)
                s2c, after = result if isinstance(result, tuple) else (result, None)
            json_format.ParseDict({"retType": 0, "retMsg": "", "errCode": 0, "s2c": s2c},
                                  response)
        except Refusal as exc:
            response = protos.response_class(proto_id)()
            response.retType, response.retMsg, response.errCode = -1, str(exc), -1
        except Exception as exc:  # a simulator bug must not take the connection down
            log.exception("conn %s: proto %s failed", conn.conn_id, proto_id)
            response = protos.response_class(proto_id)()
            response.retType, response.retMsg, response.errCode = -1, f"internal: {exc}", -1
            after = None
        conn.send(proto_id, packet.serial_no, response, fmt)
        if after is not None:
            after()

    def _init_connect(self, conn: Connection, c2s: Any) -> dict:
        if c2s.HasField("packetEncAlgo") and c2s.packetEncAlgo != PACKET_ENC_NONE:
            raise Refusal("sim-opend does not encrypt: create contexts with is_encrypt=False")
        conn.ready = True
        if c2s.HasField("pushProtoFmt"):
            conn.push_fmt = c2s.pushProtoFmt
        log.info("conn %s: InitConnect from %s %s", conn.conn_id, c2s.clientID,
                 c2s.clientVer)
        return {"serverVer": SERVER_VERSION, "loginUserID": LOGIN_USER_ID,
                "connID": conn.conn_id, "connAESKey": "0" * 16,
                "keepAliveInterval": KEEP_ALIVE_INTERVAL}

    def _global_state(self, conn: Connection, c2s: Any) -> dict:
        state = self.quotes.market_state()
        now = time.time()
        return {"marketHK": state, "marketUS": state, "marketSH": state, "marketSZ": state,
                "marketHKFuture": state, "qotLogined": True, "trdLogined": True,
                "serverVer": SERVER_VERSION, "serverBuildNo": 1, "time": int(now),
                "localTime": now, "programStatus": {"type": "ProgramStatusType_Ready"},
                "connID": conn.conn_id}

    # --- pushes -----------------------------------------------------------------------------

    def push(self, conns: list[Connection], proto_id: int, s2c: dict) -> None:
        """Send one push to several connections (serialized once per format)."""
        if not conns:
            return
        message = protos.response_class(proto_id)()
        json_format.ParseDict({"retType": 0, "retMsg": "", "errCode": 0, "s2c": s2c}, message)
        bodies: dict[int, bytes] = {}
        serial = next(self._serials)
        for conn in conns:
            if conn.closed:
                continue
            body = bodies.get(conn.push_fmt)
            if body is None:
                body = bodies[conn.push_fmt] = protocol.serialize_body(message, conn.push_fmt)
            conn.write(protocol.encode_packet(proto_id, serial, body, conn.push_fmt))
