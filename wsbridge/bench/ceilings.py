"""Three bare servers that bound what any Python bridge can deliver, on the same bytes.

``python -m wsbridge.bench.ceilings --control PATH`` serves websocket connections (a plain
``websockets`` server: no protocol, no login, every connection gets every tick) and
takes the same ``ticks`` command as :mod:`wsbridge.bench.inject`, plus a ``mode``:

- ``broadcast``: ``websockets.broadcast()`` per tick, the library's own fan-out;
- ``frame``: the tick's frame built once and written to each transport, one write per tick;
- ``coalesce``: the frames of a batch (ten per loop turn flat out) joined, one write per
  connection per batch.

A tick is the bench tick's JSON encoded once at start; per tick only its stamp digits are
rewritten. Flat out, a batch waits while any connection has more than
:data:`BACKLOG` bytes unsent, so a ceiling never buys speed with unbounded memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time

import orjson
from websockets.asyncio.server import broadcast, serve

from wsbridge.bench import ticks
from wsbridge.bench.inject import pace
from wsbridge.server.frames import text_frame

BACKLOG = 1 << 20
MODES = ("broadcast", "frame", "coalesce")


class Payloads:
    """The bench tick of each instrument, encoded once; :meth:`get` restamps one."""

    def __init__(self, instruments: list[str]) -> None:
        self.messages = [bytearray(ticks.message(ticks.depth(i))) for i in instruments]
        marker = f'"{ticks.STAMP_FIELD}":"'.encode()
        self.at = self.messages[0].index(marker) + len(marker)

    def get(self, k: int) -> bytes:
        message = self.messages[k % len(self.messages)]
        message[self.at:self.at + ticks.STAMP_DIGITS] = b"%019d" % time.monotonic_ns()
        return bytes(message)


class Ceilings:
    def __init__(self, instruments: int) -> None:
        self.payloads = Payloads(ticks.instrument_ids(instruments))
        self.server = None

    async def handler(self, ws) -> None:
        await ws.wait_closed()

    def emitter(self, mode: str):
        """The function that sends ticks k .. k+count-1 to every connection."""
        connections = list(self.server.connections)
        transports = [c.transport for c in connections]
        get = self.payloads.get

        def backlogged() -> bool:
            return any(t.get_write_buffer_size() > BACKLOG for t in transports)

        def emit_broadcast(first: int, count: int) -> int:
            if backlogged():
                return 0
            for k in range(first, first + count):
                broadcast(connections, get(k), text=True)
            return count

        def emit_frame(first: int, count: int) -> int:
            if backlogged():
                return 0
            for k in range(first, first + count):
                frame = text_frame(get(k))
                for transport in transports:
                    transport.write(frame)
            return count

        def emit_coalesce(first: int, count: int) -> int:
            if backlogged():
                return 0
            data = b"".join([text_frame(get(k)) for k in range(first, first + count)])
            for transport in transports:
                transport.write(data)
            return count

        return {"broadcast": emit_broadcast, "frame": emit_frame,
                "coalesce": emit_coalesce}[mode]

    async def command(self, command: dict) -> dict:
        cmd = command.get("cmd")
        if cmd == "ticks":
            mode = command.get("mode", "coalesce")
            if mode not in MODES:
                raise ValueError(f"mode must be one of {', '.join(MODES)}")
            answer = await pace(self.emitter(mode), command.get("rate"),
                                float(command["seconds"]), int(command.get("batch", 10)))
            answer["clients"] = len(self.server.connections)
            return answer
        if cmd == "ping":
            return {"ok": True, "clients": len(self.server.connections)}
        raise ValueError(f"unknown command {cmd!r}")

    async def serve_control(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = await self.command(orjson.loads(line))
                except Exception as exc:
                    answer = {"error": f"{type(exc).__name__}: {exc}"}
                writer.write(orjson.dumps(answer) + b"\n")
                await writer.drain()
        finally:
            writer.close()

    async def run(self, host: str, port: int, control: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(control)
        async with serve(self.handler, host, port, compression=None, ping_interval=None,
                         max_size=1 << 16) as server:
            self.server = server
            control_server = await asyncio.start_unix_server(self.serve_control, control)
            bound = server.sockets[0].getsockname()
            print(f"ceilings ready: ws://{bound[0]}:{bound[1]}/", flush=True)
            async with control_server:
                await asyncio.Future()  # until killed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m wsbridge.bench.ceilings",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--control", required=True, help="Unix socket for commands")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--instruments", type=int, default=50)
    args = parser.parse_args(argv)
    from wsbridge.bench.swarm import raise_fd_limit
    from wsbridge.cli import run_async

    raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt):
        run_async(Ceilings(args.instruments).run(args.host, args.port, args.control))


if __name__ == "__main__":
    main()
