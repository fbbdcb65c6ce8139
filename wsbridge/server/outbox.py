"""Per-client outgoing queues that coalesce and conflate.

Everything a client is sent goes through its :class:`Outbox` as a ready-made frame.
Whatever is pending for a client leaves in one ``transport.write`` per event-loop turn
(:class:`FlushScheduler`). While a client is not reading (its transport is paused by
asyncio's write-buffer high-water mark), quotes are conflated: only the latest frame per
instrument is kept. Other messages (responses, orders, trades) are never dropped; a
client that lets more than ``limit_bytes`` of them pile up is closed instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class FlushScheduler:
    """Flushes every outbox that got something this loop turn, once, at the end of it."""

    __slots__ = ("_dirty", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._dirty: list[Outbox] = []
        self._scheduled = False

    def mark(self, outbox: Outbox) -> None:
        self._dirty.append(outbox)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._run)

    def flush_now(self) -> None:
        """Flush at once (used on shutdown, before the connections close)."""
        self._run()

    def _run(self) -> None:
        dirty, self._dirty = self._dirty, []
        self._scheduled = False
        for outbox in dirty:
            outbox.flush()


class Outbox:
    """The frames waiting for one client."""

    __slots__ = (
        "_bytes", "_dirty", "_frames", "_quotes", "_scheduler", "_transport", "closed",
        "conflated", "limit_bytes", "on_overflow", "paused", "written",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        scheduler: FlushScheduler,
        limit_bytes: int,
        on_overflow: Callable[[int], None],
    ) -> None:
        self._transport = transport
        self._scheduler = scheduler
        self._frames: list[bytes] = []
        self._quotes: dict[str, bytes] = {}
        self._bytes = 0
        self._dirty = False
        self.limit_bytes = limit_bytes
        self.on_overflow = on_overflow
        self.paused = False
        self.closed = False
        self.conflated = 0  # quotes replaced by a newer one before they were sent
        self.written = 0  # frames handed to the transport

    def send(self, frame: bytes) -> None:
        """Queue a frame that must arrive (a response, an order or trade event)."""
        if self.closed:
            return
        self._frames.append(frame)
        self._bytes += len(frame)
        if self.paused and self._bytes > self.limit_bytes:
            self._overflow()
            return
        self._mark()

    def send_quote(self, key: str, frame: bytes) -> None:
        """Queue a quote; while the client is behind, a newer one for ``key`` replaces it."""
        if self.closed:
            return
        if not self.paused:
            self._frames.append(frame)
            self._bytes += len(frame)
            self._mark()
        elif self._quotes.setdefault(key, frame) is not frame:
            self._quotes[key] = frame
            self.conflated += 1

    def _mark(self) -> None:
        if not self._dirty:
            self._dirty = True
            self._scheduler.mark(self)

    def flush(self) -> None:
        """Write everything pending in one go, unless the client is behind."""
        self._dirty = False
        if self.closed or self.paused:
            return
        if self._transport.is_closing():
            self.close()
            return
        frames = self._frames
        if self._quotes:
            frames.extend(self._quotes.values())
            self._quotes = {}
        if not frames:
            return
        self.written += len(frames)
        self._frames = []
        self._bytes = 0
        self._transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def pause(self) -> None:
        """The transport's buffer is over its high-water mark: hold and conflate."""
        self.paused = True

    def resume(self) -> None:
        """The transport drained: send what waited (latest quotes included)."""
        self.paused = False
        if self._frames or self._quotes:
            self._mark()

    def pending_bytes(self) -> int:
        return self._bytes

    def close(self) -> None:
        self.closed = True
        self._frames = []
        self._quotes = {}
        self._bytes = 0

    def _overflow(self) -> None:
        pending = self._bytes
        self.close()
        self.on_overflow(pending)
