"""``bench-inject``: a back end that feeds the server exactly what the benchmark asks for.

It stands where a real adapter stands and calls the same :class:`Sink`, so everything from
``sink.on_tick`` to the socket is what a user's server runs. It has no market of its own:
a driver connects to its control socket (a Unix socket named in the config) and asks for

- ``{"cmd": "ticks", "rate": R, "seconds": T, "batch": B}``: ticks for the subscribed
  instruments, round robin, for T seconds: R per second in timer-driven batches, or with
  ``rate`` null flat out, B per event-loop turn. Answers with the number injected.
  With ``"thread": true`` the ticks come from another thread, as an SDK's callbacks
  do, through :class:`~wsbridge.adapters.base.ThreadBridge`: a fresh dict per tick,
  one hop per batch.
- ``{"cmd": "orders", "account": A, "count": N}``: N RtnOrder events for account A in one
  loop turn (td), to drive a client past its outbox limit.

Config (``backend: bench-inject``)::

    bench-inject:
      control: /tmp/bench/inject.sock   # required
      instruments: 50                    # bench0000 ... bench0049
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from wsbridge.adapters.base import Adapter, Login, Reply, Request, ThreadBridge, register
from wsbridge.bench import ticks
from wsbridge.config import ConfigError, from_dict
from wsbridge.protocol import errors
from wsbridge.protocol.catalog import filled
from wsbridge.protocol.errors import CtpError

NAME = "bench-inject"
TIMER_S = 0.001  # how often a fixed-rate run injects what is due

log = logging.getLogger("wsbridge.bench.inject")

Emit = Callable[[int, int], int]  # (first tick number, count) -> how many were sent


@dataclass(slots=True)
class InjectSettings:
    control: str
    instruments: int = 50


def register_backend() -> None:
    """Make ``backend: bench-inject`` known to this process's config loader."""
    register(NAME, f"{__name__}:InjectAdapter")


class InjectAdapter(Adapter):
    """Injects ticks and order events at the adapter boundary on command."""

    name = NAME

    def __init__(self, settings: InjectSettings, app_type: str, sink) -> None:
        super().__init__(settings, app_type, sink)
        self.known = set(ticks.instrument_ids(settings.instruments))
        self.subscribed: set[str] = set()
        self._control: asyncio.AbstractServer | None = None

    @classmethod
    def parse_settings(cls, data: dict, where: str) -> InjectSettings:
        settings = from_dict(InjectSettings, data, where)
        if not 1 <= settings.instruments <= ticks.MAX_INSTRUMENTS:
            raise ConfigError(f"{where}.instruments: must be 1..{ticks.MAX_INSTRUMENTS}")
        return settings

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.settings.control)
        self._control = await asyncio.start_unix_server(self._serve_control,
                                                        self.settings.control)

    async def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        with contextlib.suppress(OSError):
            os.unlink(self.settings.control)

    async def login(self, fields: dict, peer: str) -> Login:
        user = fields.get("UserID") or "bench"
        body = filled("RspUserLogin", {"TradingDay": "20260105", "UserID": user,
                                       "BrokerID": fields.get("BrokerID", ""),
                                       "SystemName": "wsbridge bench"})
        return Login(account=user, user_id=user, fields=body)

    async def request(self, login: Login, req: Request) -> Reply:
        raise CtpError(errors.NOT_SUPPORTED,
                       detail=f"{req.msg_type} is not served by the {NAME} back end")

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for instrument in instrument_ids:
            if instrument in self.known:
                self.subscribed.add(instrument)
                out[instrument] = None
            else:
                out[instrument] = CtpError(errors.INSTRUMENT_NOT_FOUND,
                                           detail=f"{instrument!r}: not a bench instrument")
        return out

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        self.subscribed.difference_update(instrument_ids)

    def health(self) -> dict:
        return {"backend": NAME, "subscribed": len(self.subscribed)}

    # --- control -------------------------------------------------------------------------

    async def _serve_control(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = await self._command(orjson.loads(line))
                except Exception as exc:  # a bad command must not stop the server
                    log.exception("control command failed")
                    answer = {"error": str(exc)}
                writer.write(orjson.dumps(answer) + b"\n")
                await writer.drain()
        finally:
            writer.close()

    async def _command(self, command: dict) -> dict:
        cmd = command.get("cmd")
        if cmd == "ticks":
            instruments = sorted(self.subscribed)
            if not instruments:
                raise ValueError("no instrument is subscribed")
            rate, seconds = command.get("rate"), float(command["seconds"])
            batch = int(command.get("batch", 10))
            if command.get("thread"):
                answer = await pace_from_thread(self.sink.on_tick, instruments, rate,
                                                seconds, batch)
            else:
                answer = await pace(tick_emitter(self.sink.on_tick, instruments), rate,
                                    seconds, batch)
            return {**answer, "instruments": len(instruments)}
        if cmd == "orders":
            return self._orders(str(command["account"]), int(command["count"]))
        if cmd == "ping":
            return {"ok": True}
        raise ValueError(f"unknown command {cmd!r}")

    def _orders(self, account: str, count: int) -> dict:
        order = filled("Order", {"InstrumentID": "bench0000", "ExchangeID": "SHFE",
                                 "Direction": "0", "CombOffsetFlag": "0",
                                 "OrderStatus": "3", "LimitPrice": 3521.0,
                                 "VolumeTotalOriginal": 1, "InvestorID": account})
        for i in range(count):
            order["OrderRef"] = str(i + 1)
            order["OrderSysID"] = f"{i + 1:12d}"
            self.sink.on_order(account, order)
        return {"sent": count}


def tick_emitter(on_tick: Callable[[dict], None], instruments: list[str]) -> Emit:
    """Ticks k .. k+count-1, round robin over ``instruments``, each stamped as it goes."""
    templates = [ticks.depth(i) for i in instruments]
    n = len(templates)
    stamp = ticks.stamp

    def emit(first: int, count: int) -> int:
        for k in range(first, first + count):
            on_tick(stamp(templates[k % n]))
        return count

    return emit


async def pace(emit: Emit, rate: float | None, seconds: float, batch: int) -> dict:
    """Drive ``emit`` for ``seconds``: ``rate`` ticks per second, or flat out.

    Shared by this adapter and the ceiling servers, so both are fed the same way. Flat out
    means ``batch`` ticks per event-loop turn with the loop's own work (flushing, I/O) in
    between; at a fixed rate, a 1 ms timer emits whatever is due. ``emit`` returns how
    many it sent (a ceiling server sends none while a client is backlogged).
    """
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    clock = time.monotonic_ns
    start = clock()
    end = start + int(seconds * 1e9)
    sent = 0

    def flat_out() -> None:
        nonlocal sent
        sent += emit(sent, batch)
        if clock() >= end:
            done.set_result(None)
        else:
            loop.call_soon(flat_out)

    def paced() -> None:
        nonlocal sent
        now = clock()
        due = int(rate * (min(now, end) - start) / 1e9) - sent
        if due > 0:
            sent += emit(sent, due)
        if now >= end:
            done.set_result(None)
        else:
            loop.call_later(TIMER_S, paced)

    (flat_out if rate is None else paced)()
    await done
    return {"injected": sent, "start_ns": start, "end_ns": clock()}


async def pace_from_thread(on_tick: Callable[[dict], None], instruments: list[str],
                           rate: float | None, seconds: float, batch: int) -> dict:
    """Like :func:`pace`, from a producer thread through a :class:`ThreadBridge`.

    Each tick is a new dict stamped in the thread, as an SDK callback would build it.
    Flat out, the thread posts ``batch`` ticks and waits until the loop has run them, so
    a batch crosses per loop turn; at a fixed rate it posts what is due every 1 ms.
    """
    bridge = ThreadBridge(asyncio.get_running_loop())
    templates = [ticks.depth(i) for i in instruments]
    n = len(templates)
    clock = time.monotonic_ns

    def produce() -> dict:
        ran = threading.Event()
        start = clock()
        end = start + int(seconds * 1e9)
        sent = 0
        while (now := clock()) < end:
            count = batch if rate is None else int(rate * (now - start) / 1e9) - sent
            for k in range(sent, sent + count):
                bridge.post(on_tick, ticks.stamp(dict(templates[k % n])))
            sent += max(count, 0)
            if rate is None:
                ran.clear()
                bridge.post(ran.set)
                ran.wait(5.0)  # bounded: the loop may be shutting down
            else:
                time.sleep(TIMER_S)
        return {"injected": sent, "start_ns": start, "end_ns": clock()}

    return await asyncio.to_thread(produce)
