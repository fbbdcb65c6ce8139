"""Outbox: one write per loop turn, conflation while paused, overflow closes."""

from __future__ import annotations

import asyncio

from wsbridge.server.frames import text_frame
from wsbridge.server.outbox import FlushScheduler, Outbox


class RecordingTransport(asyncio.Transport):
    """Collects writes the way a socket transport receives them."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing


def test_text_frame_lengths() -> None:
    assert text_frame(b"hi") == b"\x81\x02hi"
    medium = text_frame(b"x" * 300)
    assert medium[:4] == b"\x81\x7e\x01\x2c" and len(medium) == 304
    large = text_frame(b"x" * 70000)
    assert large[:2] == b"\x81\x7f" and int.from_bytes(large[2:10], "big") == 70000


async def test_everything_in_one_turn_is_one_write() -> None:
    transport = RecordingTransport()
    outbox = Outbox(transport, FlushScheduler(), 1 << 20, lambda n: None)
    outbox.send(b"a")
    outbox.send_quote("rb", b"q1")
    outbox.send(b"b")
    await asyncio.sleep(0)
    assert transport.writes == [b"aq1b"]
    assert outbox.written == 3


async def test_paused_client_gets_latest_quote_per_instrument() -> None:
    transport = RecordingTransport()
    outbox = Outbox(transport, FlushScheduler(), 1 << 20, lambda n: None)
    outbox.pause()
    for i in range(5):
        outbox.send_quote("rb", f"rb{i}".encode())
        outbox.send_quote("au", f"au{i}".encode())
    outbox.send(b"order")
    await asyncio.sleep(0)
    assert transport.writes == []
    outbox.resume()
    await asyncio.sleep(0)
    assert transport.writes == [b"orderrb4au4"]
    assert outbox.conflated == 8


async def test_events_are_never_dropped_but_overflow_closes() -> None:
    transport = RecordingTransport()
    overflowed: list[int] = []
    outbox = Outbox(transport, FlushScheduler(), 100, overflowed.append)
    outbox.pause()
    for _ in range(10):
        outbox.send(b"x" * 10)
    assert not overflowed and not outbox.closed
    outbox.send(b"y")
    assert overflowed == [101] and outbox.closed
    outbox.send(b"z")
    outbox.resume()
    await asyncio.sleep(0)
    assert transport.writes == []


async def test_closing_transport_is_not_written() -> None:
    transport = RecordingTransport()
    outbox = Outbox(transport, FlushScheduler(), 100, lambda n: None)
    transport.closing = True
    outbox.send(b"a")
    await asyncio.sleep(0)
    assert transport.writes == [] and outbox.closed
