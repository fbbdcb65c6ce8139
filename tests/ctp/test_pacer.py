"""QueryPacer on its own: one query at a time, in arrival order, interval apart."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from wsbridge.adapters.ctp.pacing import QueryPacer
from wsbridge.protocol.errors import CtpError


async def test_queries_go_one_at_a_time_in_order_and_spaced() -> None:
    pacer = QueryPacer(interval=0.05, max_queued=10)
    sent: list[tuple[int, float]] = []
    in_flight = 0

    async def query(n: int) -> int:
        nonlocal in_flight
        in_flight += 1
        assert in_flight == 1  # never two outstanding
        sent.append((n, time.monotonic()))
        pacer.mark()
        await asyncio.sleep(0)  # waiting for the answer
        in_flight -= 1
        return n

    results = await asyncio.gather(*(pacer.run(lambda n=n: query(n)) for n in range(5)))
    assert results == list(range(5))
    assert [n for n, _ in sent] == list(range(5))
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(sent)]
    assert all(gap >= 0.05 for gap in gaps)  # a lower bound the clock guarantees


async def test_too_many_waiting_is_minus_2_at_once() -> None:
    pacer = QueryPacer(interval=10.0, max_queued=2)
    release = asyncio.Event()

    async def slow() -> None:
        pacer.mark()
        await release.wait()

    first = asyncio.ensure_future(pacer.run(slow))
    queued = [asyncio.ensure_future(pacer.run(slow)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(CtpError) as refused:
        await pacer.run(slow)
    assert refused.value.error_id == -2 and "2 queries already waiting" in refused.value.detail
    for task in (first, *queued):
        task.cancel()
    await asyncio.gather(first, *queued, return_exceptions=True)
    assert pacer.waiting == 0  # cancelled waiters leave no count behind
