"""The benchmark's clients: many websocket connections per process, as cheap as possible.

Run as ``python -m wsbridge.bench.swarm``: a worker that takes one JSON command per line
on stdin and answers one JSON line on stdout (see :func:`Worker.handle`). Connections are
raw asyncio protocols: they do the opening handshake themselves, parse frames while a
connection is being set up (answering pings, noting a close code), and then, once told to
count, only count bytes. Every tick is :data:`~wsbridge.bench.ticks.FRAME_LEN` bytes, so
bytes / FRAME_LEN is messages; for latency each chunk read yields one sample, the
injection stamp of the first frame that starts in it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import resource
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import orjson

from wsbridge.bench.ticks import FRAME_LEN, STAMP_AT, STAMP_DIGITS

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked frame (clients must mask; RFC 6455 §5.3)."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big") if n else 0
    body = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
    return head + mask + body


def request_frame(msg: dict) -> bytes:
    return client_frame(OP_TEXT, orjson.dumps(msg))


def parse_frames(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Complete server frames (unmasked) at the start of ``buffer``; removes them."""
    frames, i, size = [], 0, len(buffer)
    while size - i >= 2:
        n, head = buffer[i + 1] & 0x7F, 2
        if n == 126:
            if size - i < 4:
                break
            n, head = int.from_bytes(buffer[i + 2:i + 4], "big"), 4
        elif n == 127:
            if size - i < 10:
                break
            n, head = int.from_bytes(buffer[i + 2:i + 10], "big"), 10
        if size - i < head + n:
            break
        frames.append((buffer[i] & 0x0F, bytes(buffer[i + head:i + head + n])))
        i += head + n
    del buffer[:i]
    return frames


class BenchClient(asyncio.Protocol):
    """One connection: handshake, then set-up frames, then (when counting) bytes only."""

    def __init__(self, host: str, path: str, setup: list[bytes], wait_for: bytes | None,
                 samples: list[int]) -> None:
        self.host, self.path = host, path
        self.setup = setup  # frames sent right after the handshake (login, subscribe)
        self.wait_for = wait_for  # set-up is done when a text frame contains this
        self.samples = samples  # latency samples (ns), shared by the connection's group
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshaken = False
        self.counting = False
        self.nbytes = 0  # counted bytes since the last reset
        self.last_ns = 0  # when the last counted bytes arrived
        self.texts = 0  # text frames seen while parsing
        self.errors: list[str] = []
        self.pongs = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self.open = False

    # --- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.open = True
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write((
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        if self.counting:  # the hot path: count, and read one stamp per chunk
            start = self.nbytes
            self.nbytes = start + len(data)
            self.last_ns = now = time.monotonic_ns()
            at = -start % FRAME_LEN + STAMP_AT
            if at + STAMP_DIGITS <= len(data):
                self.samples.append(now - int(data[at:at + STAMP_DIGITS]))
            return
        self.buffer += data
        if not self.handshaken:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[:end + 4]
            if b" 101 " not in status + b" ":
                self._fail(f"handshake refused: {status.decode(errors='replace')}")
                return
            self.handshaken = True
            if self.setup:
                self.transport.write(b"".join(self.setup))
            if self.wait_for is None:
                self._set_ready()
        for opcode, payload in parse_frames(self.buffer):
            self._frame(opcode, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if not self.ready.done():
            self._fail(f"connection lost during set-up: {exc or 'closed'}")

    # --- frames --------------------------------------------------------------------------

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_TEXT:
            self.texts += 1
            if b'"RspInfo":{"ErrorID":0' not in payload and b'"RspInfo"' in payload:
                self.errors.append(payload[:300].decode(errors="replace"))
            if (self.wait_for is not None and not self.ready.done()
                    and self.wait_for in payload and b'"IsLast":true' in payload):
                self._set_ready()
        elif opcode == OP_PING:
            self.pongs += 1
            self.transport.write(client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_reason = payload[2:].decode(errors="replace")
            if not self.transport.is_closing():
                self.transport.write(client_frame(OP_CLOSE, payload[:2]))

    def _set_ready(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def _fail(self, why: str) -> None:
        self.errors.append(why)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport is not None:
            self.transport.close()

    # --- control -------------------------------------------------------------------------

    def start_counting(self) -> bool:
        """Count from here; False if a frame was half read (the count would be off)."""
        aligned = not self.buffer
        self.buffer.clear()
        self.counting = True
        self.nbytes = 0
        self.last_ns = 0
        return aligned

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def md_setup(user: str, instruments: list[str]) -> list[bytes]:
    """ReqUserLogin then SubscribeMarketData, pipelined."""
    return [
        request_frame({"MsgType": "ReqUserLogin", "RequestID": 1,
                       "ReqUserLogin": {"UserID": user, "Password": "bench"}}),
        request_frame({"MsgType": "SubscribeMarketData", "RequestID": 2,
                       "InstrumentID": instruments}),
    ]


class Group:
    """Connections opened by one ``connect`` command family (e.g. those to wsbridge)."""

    def __init__(self) -> None:
        self.clients: list[BenchClient] = []
        self.samples: list[int] = []
        self.ids = itertools.count()


async def open_clients(url: str, count: int, make: Callable[[], BenchClient],
                       concurrency: int = 64, timeout: float = 60.0) -> tuple[list, list[str]]:
    """Open ``count`` connections, at most ``concurrency`` setting up at once."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(concurrency)
    opened: list[BenchClient] = []
    failures: list[str] = []

    async def one() -> None:
        async with gate:
            try:
                _, client = await loop.create_connection(make, parts.hostname, parts.port)
                opened.append(client)
                await asyncio.wait_for(asyncio.shield(client.ready), timeout)
            except (OSError, ConnectionError, TimeoutError) as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

    await asyncio.gather(*(one() for _ in range(count)))
    return opened, failures


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Worker:
    """Executes the driver's commands; see :meth:`handle`."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}

    async def handle(self, command: dict) -> dict:
        cmd = command["cmd"]
        group = self.groups.setdefault(command.get("group", ""), Group())
        if cmd == "connect":  # {url, count, login, instruments, user}
            return await self._connect(group, command)
        if cmd == "settle":  # wait until nothing arrives for `quiet` seconds
            await self._settle(group, command.get("quiet", 0.2), command.get("timeout", 30))
            return {"ok": True}
        if cmd == "reset":  # start counting from zero
            misaligned = sum(not c.start_counting() for c in group.clients)
            group.samples.clear()
            return {"ok": True, "misaligned": misaligned, "cpu": cpu_seconds()}
        if cmd == "drain":  # wait for `expected` frames per connection, or quiet
            return await self._drain(group, command)
        if cmd == "status":
            return self._status(group)
        if cmd == "close":
            for client in group.clients:
                client.close()
            await self._settle(group, 0.05, 10)
            closed = len(group.clients)
            group.clients.clear()
            return {"closed": closed}
        raise ValueError(f"unknown command {cmd!r}")

    async def _connect(self, group: Group, command: dict) -> dict:
        url, count = command["url"], int(command["count"])
        parts = urlsplit(url)
        host = f"{parts.hostname}:{parts.port}"
        instruments = command.get("instruments") or []
        login = bool(command.get("login"))
        user = command.get("user", "bench")

        def make() -> BenchClient:
            setup = md_setup(f"{user}{next(group.ids)}", instruments) if login else []
            wait_for = b"RspSubMarketData" if login else None
            return BenchClient(host, parts.path or "/", setup, wait_for, group.samples)

        opened, failures = await open_clients(url, count, make,
                                              command.get("concurrency", 64))
        group.clients.extend(opened)
        errors = [e for c in opened for e in c.errors][:5]
        return {"connected": sum(c.ready.done() and c.ready.exception() is None
                                 for c in opened),
                "failed": len(failures), "errors": (failures + errors)[:5]}

    async def _settle(self, group: Group, quiet: float, timeout: float) -> None:
        """Wait until nothing changes on the group's connections for ``quiet`` seconds."""
        def activity() -> tuple[int, ...]:
            clients = group.clients
            return (sum(len(c.buffer) + c.texts + c.nbytes for c in clients),
                    sum(c.open for c in clients))

        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            now = activity()
            if now == seen:
                return
            seen = now
            await asyncio.sleep(quiet)

    async def _drain(self, group: Group, command: dict) -> dict:
        counting = [c for c in group.clients if c.counting]
        want = int(command["expected"]) * FRAME_LEN * len(counting)
        quiet_ns = int(command.get("quiet", 0.5) * 1e9)
        deadline = time.monotonic() + command.get("timeout", 60)
        started = time.monotonic_ns()
        while time.monotonic() < deadline:
            got = sum(c.nbytes for c in counting)
            last = max((c.last_ns for c in counting), default=0)
            if got >= want or time.monotonic_ns() - max(last, started) > quiet_ns:
                break
            await asyncio.sleep(0.02)
        nbytes = sum(c.nbytes for c in counting)
        return {
            "clients": len(counting),
            "bytes": nbytes,
            "frames": sum(c.nbytes // FRAME_LEN for c in counting),
            "misaligned": sum(c.nbytes % FRAME_LEN != 0 for c in counting),
            "closed": sum(not c.open for c in counting),
            "last_ns": max((c.last_ns for c in counting), default=0),
            "samples_us": [s // 1000 for s in group.samples],
            "cpu": cpu_seconds(),
        }

    def _status(self, group: Group) -> dict:
        clients = group.clients
        codes: dict[str, int] = {}
        for c in clients:
            if c.close_code is not None:
                key = f"{c.close_code} {c.close_reason}"
                codes[key] = codes.get(key, 0) + 1
        return {"clients": len(clients), "open": sum(c.open for c in clients),
                "pongs": sum(c.pongs for c in clients), "texts": sum(c.texts for c in clients),
                "close": codes, "errors": [e for c in clients for e in c.errors][:5],
                "cpu": cpu_seconds()}


async def serve_commands() -> None:
    """Read commands from stdin until EOF or ``{"cmd": "exit"}``."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    worker = Worker()
    out = sys.stdout.buffer
    while line := await reader.readline():
        command = orjson.loads(line)
        if command.get("cmd") == "exit":
            break
        try:
            answer = await worker.handle(command)
        except Exception as exc:  # report, keep serving
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(orjson.dumps(answer) + b"\n")
        out.flush()
    for group in worker.groups.values():
        for client in group.clients:
            client.close()


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (10,000 connections need it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


def main() -> None:
    raise_fd_limit()
    from wsbridge.cli import run_async

    run_async(serve_commands())


if __name__ == "__main__":
    main()
