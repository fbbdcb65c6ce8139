"""Helpers for the benchmark's tests: a bench-inject server and raw clients that record."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from wsbridge.bench import procs
from wsbridge.bench.swarm import OP_TEXT, BenchClient, request_frame


@contextlib.contextmanager
def bench_server(workdir: Path, app_type: str = "md", instruments: int = 5,
                 **limits) -> Iterator[tuple[procs.Service, procs.Control]]:
    """A real server process with the bench-inject back end, and its control line."""
    control_path = workdir / f"{app_type}.sock"
    config = procs.bridge_config(control_path, instruments, app_type=app_type, **limits)
    config["log_level"] = "info"
    service = procs.start_bridge(workdir, app_type, config)
    try:
        control = procs.Control(control_path)
        try:
            yield service, control
        finally:
            control.close()
    finally:
        service.stop()


class Recorder(BenchClient):
    """A raw client that keeps every text frame it reads."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.messages: list[dict] = []

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            self.messages.append(orjson.loads(payload))
        super()._frame(opcode, payload)

    def of_type(self, msg_type: str) -> list[dict]:
        return [m for m in self.messages if m["MsgType"] == msg_type]


async def open_recorder(url: str, setup: list[dict], ready_on: bytes | None,
                        rcvbuf: int | None = None, cls: type = Recorder) -> Recorder:
    """Connect a :class:`Recorder`; ``rcvbuf`` shrinks its socket's receive buffer so a
    client that stops reading backs up the server quickly."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await loop.sock_connect(sock, (parts.hostname, parts.port))
    host = f"{parts.hostname}:{parts.port}"
    frames = [request_frame(m) for m in setup]
    _, client = await loop.create_connection(
        lambda: cls(host, "/", frames, ready_on, []), sock=sock)
    await asyncio.wait_for(client.ready, 10)
    return client


def login(user: str, request_id: int = 1) -> dict:
    return {"MsgType": "ReqUserLogin", "RequestID": request_id,
            "ReqUserLogin": {"UserID": user, "Password": "x"}}


def subscribe(instruments: list[str], request_id: int = 2) -> dict:
    return {"MsgType": "SubscribeMarketData", "RequestID": request_id,
            "InstrumentID": instruments}


async def until(predicate, timeout: float = 20.0, step: float = 0.02) -> None:
    """Wait for ``predicate()`` to hold (a generous bound against hangs, not a timing)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(step)
