"""Keep-alive pings for every connection of a server, from one timer.

websockets' own keep-alive runs a task per connection, with a future, a timeout and an
async context manager per ping. At 10,000 idle connections that bookkeeping, not the
pings, is most of what an idle server spends. Here every connection sits in a one-second
slot of a timing wheel that a single timer turns:

- a connection not heard from (any frame: a pong, a request) for ``interval`` seconds is
  sent a ping;
- one that then stays silent for ``timeout`` seconds is failed with 1011
  "keepalive ping timeout", as websockets does (``timeout`` None: never).

Connections implement :class:`Beating`; the server's connection class does.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from typing import Protocol

TICK = 1.0  # seconds per slot


class Beating(Protocol):
    heard: float  # loop time the peer was last heard from
    pinged: float  # loop time of the unanswered ping, 0.0 when none is

    def send_keepalive_ping(self) -> bool:
        """Send a ping; False if the connection is gone (then it is forgotten)."""

    def keepalive_timeout(self) -> None:
        """The peer did not answer: fail the connection."""


class Heartbeat:
    """The timing wheel of one event loop's connections."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float,
                 timeout: float | None) -> None:
        self.loop = loop
        self.interval = interval
        self.timeout = timeout
        self.slots: list[list[Beating]] = [
            [] for _ in range(math.ceil(max(interval, timeout or 0) / TICK) + 2)]
        self.turn = 0
        self.started = loop.time()
        self._handle: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return sum(map(len, self.slots))

    def add(self, conn: Beating) -> None:
        now = self.loop.time()
        if self._handle is None:  # the wheel was at rest: line it up with the clock
            self.turn = int((now - self.started) / TICK)
            self._handle = self.loop.call_at(self._slot_time(self.turn + 1), self._tick)
        conn.heard = now
        conn.pinged = 0.0
        self._schedule(conn, now + self.interval)

    def _slot_time(self, turn: int) -> float:
        return self.started + turn * TICK

    def _schedule(self, conn: Beating, when: float) -> None:
        ahead = max(1, math.ceil((when - self._slot_time(self.turn)) / TICK))
        ahead = min(ahead, len(self.slots) - 1)
        self.slots[(self.turn + ahead) % len(self.slots)].append(conn)

    def _tick(self) -> None:
        self.turn += 1
        index = self.turn % len(self.slots)
        due, self.slots[index] = self.slots[index], []
        now = self.loop.time()
        for conn in due:
            self._visit(conn, now)
        if any(self.slots):
            self._handle = self.loop.call_at(self._slot_time(self.turn + 1), self._tick)
        else:
            self._handle = None

    def _visit(self, conn: Beating, now: float) -> None:
        timeout = self.timeout
        if timeout is not None and conn.pinged and conn.heard < conn.pinged:  # no answer yet
            if now - conn.pinged >= timeout:
                conn.keepalive_timeout()
            else:
                self._schedule(conn, conn.pinged + timeout)
            return
        conn.pinged = 0.0
        if now - conn.heard < self.interval:
            self._schedule(conn, conn.heard + self.interval)
        elif conn.send_keepalive_ping():
            conn.pinged = now
            self._schedule(conn, now + (self.timeout or self.interval))


_wheels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def heartbeat(loop: asyncio.AbstractEventLoop, interval: float,
              timeout: float | None) -> Heartbeat:
    """The loop's heartbeat for these settings (one per loop and settings)."""
    per_loop = _wheels.setdefault(loop, {})
    key = (interval, timeout)
    if key not in per_loop:
        per_loop[key] = Heartbeat(loop, interval, timeout)
    return per_loop[key]
