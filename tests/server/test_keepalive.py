"""Keep-alive from the heartbeat wheel: silent peers are pinged, mute ones dropped."""

from __future__ import annotations

from wsbridge.bench.swarm import OP_PING

from ..bench.support import Recorder, bench_server, login, open_recorder, until


class Mute(Recorder):
    """Reads everything, answers no ping."""

    def _frame(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING:
            self.pings = getattr(self, "pings", 0) + 1
            return
        super()._frame(opcode, payload)


async def test_unanswered_pings_close_with_1011_answered_ones_keep_open(tmp_path) -> None:
    with bench_server(tmp_path, "td", keepalive=True, ping_interval=0.5,
                      ping_timeout=1.0) as (server, _):
        alive = await open_recorder(server.url, [login("a")], b"RspUserLogin")
        mute = await open_recorder(server.url, [login("b")], b"RspUserLogin", cls=Mute)

        await until(lambda: mute.close_code is not None)
        assert mute.close_code == 1011
        assert mute.close_reason == "keepalive ping timeout"
        assert mute.pings >= 1

        # The client that answers has been pinged repeatedly and is still connected.
        seen = alive.pongs
        await until(lambda: alive.pongs > seen)
        assert alive.open and alive.close_code is None
        alive.close()
        await until(lambda: not alive.open)


class Clock:
    """An event loop's clock and timer, turned by hand: the wheel's logic, step by step."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.timer = None

    def time(self) -> float:
        return self.now

    def call_at(self, when, callback):
        self.timer = (when, callback)
        return self

    def advance(self, seconds: float) -> None:
        end = self.now + seconds
        while self.timer is not None and self.timer[0] <= end:
            when, callback = self.timer
            self.timer = None
            self.now = max(self.now, when)
            callback()
        self.now = end


class Peer:
    def __init__(self) -> None:
        self.heard = self.pinged = 0.0
        self.pings: list[float] = []
        self.timed_out = False
        self.gone = False
        self.clock: Clock | None = None

    def send_keepalive_ping(self) -> bool:
        if self.gone:
            return False
        self.pings.append(self.clock.now)
        return True

    def keepalive_timeout(self) -> None:
        self.timed_out = True


def test_heartbeat_pings_silent_peers_and_times_out_mute_ones() -> None:
    from wsbridge.server.keepalive import Heartbeat

    clock = Clock()
    wheel = Heartbeat(clock, interval=20, timeout=10)
    talking, answering, mute, gone = Peer(), Peer(), Peer(), Peer()
    for peer in (talking, answering, mute, gone):
        peer.clock = clock
        wheel.add(peer)
    gone.gone = True
    for _ in range(60):  # one minute, a second at a time
        clock.advance(1)
        talking.heard = clock.now  # sends something every second: never pinged
        if answering.pings and answering.heard < answering.pings[-1]:
            answering.heard = clock.now  # answers each ping within a second
    assert talking.pings == [] and not talking.timed_out
    assert len(answering.pings) in (2, 3) and not answering.timed_out
    gaps = [b - a for a, b in zip(answering.pings, answering.pings[1:], strict=False)]
    assert all(19 <= g <= 22 for g in gaps)
    assert len(mute.pings) == 1 and mute.timed_out
    assert gone.pings == [] and not gone.timed_out
    assert len(wheel) == 2  # the mute and the gone peer are forgotten


def test_heartbeat_without_timeout_keeps_pinging_and_never_drops() -> None:
    from wsbridge.server.keepalive import Heartbeat

    clock = Clock()
    wheel = Heartbeat(clock, interval=5, timeout=None)
    mute = Peer()
    mute.clock = clock
    wheel.add(mute)
    clock.advance(31)
    assert len(mute.pings) in (5, 6) and not mute.timed_out
    assert len(wheel) == 1
