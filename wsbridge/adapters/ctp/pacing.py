"""CTP's query flow control, enforced by the bridge instead of reported to clients.

A CTP front allows about one query per second per session and answers a faster one with
-3 at the call. :class:`QueryPacer` runs one session's queries one at a time, in arrival
order, at least ``interval`` apart, each after the previous one has been answered. Orders
and cancels never pass through it, so they are never delayed behind queries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

T = TypeVar("T")


class QueryPacer:
    """One CTP session's query lane."""

    def __init__(self, interval: float, max_queued: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.max_queued = max_queued
        self._clock = clock
        self._lock = asyncio.Lock()  # FIFO: waiters acquire in arrival order
        self._last = -float("inf")
        self.waiting = 0
        self.sent = 0

    def _ready_in(self) -> float:
        return self._last + self.interval - self._clock()

    async def run(self, send: Callable[[], Awaitable[T]]) -> T:
        """Run ``send`` in its turn: it issues the query, calls :meth:`mark` right after
        the Req* call returns, and awaits the answer."""
        if self.waiting >= self.max_queued:
            raise CtpError(errors.TOO_MANY_OUTSTANDING,
                           detail=f"{self.waiting} queries already waiting for this CTP "
                           f"session (CTP allows one per {self.interval:g}s)")
        self.waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self.waiting -= 1
        try:
            await self.wait_turn()
            return await send()
        finally:
            self._lock.release()

    async def wait_turn(self) -> None:
        """Sleep until ``interval`` has passed since the last query went out."""
        delay = self._ready_in()
        while delay > 0:  # a timer may fire a little early: check against the clock
            await asyncio.sleep(delay)
            delay = self._ready_in()

    def mark(self) -> None:
        """A query just went out (or was refused with -2/-3): the interval starts now.

        Marked after the call returns, so the next call is at least ``interval`` after
        the front saw this one.
        """
        self._last = self._clock()
        self.sent += 1
