"""Helpers for the simulated exchange tests: a fake clock, order bodies, settings."""

from __future__ import annotations

import datetime as dt

from wsbridge.simulators.exchange import Exchange, SimSettings

CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 3, 10, 10, 0, 0, tzinfo=CST).timestamp()
TICK = 0.5  # seconds per bucket with the default tick_interval_ms


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, t: float = START) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def tick(self, buckets: int = 1) -> float:
        self.t += buckets * TICK
        return self.t


def make_settings(**overrides) -> SimSettings:
    values = {"utc_offset_minutes": 480, "journal": None, **overrides}
    return SimSettings(**values)


def future_id(ex: Exchange, product: str) -> str:
    """The front-month contract of ``product``."""
    return next(i for i, inst in ex.instruments.items() if inst.product_id == product)


def order(iid: str, direction: str, offset: str, price: float, volume: int, **extra) -> dict:
    body = {
        "InstrumentID": iid, "Direction": direction, "CombOffsetFlag": offset,
        "CombHedgeFlag": "1", "OrderPriceType": "2", "LimitPrice": price,
        "VolumeTotalOriginal": volume, "TimeCondition": "3", "VolumeCondition": "1",
        "ContingentCondition": "1", "ForceCloseReason": "0",
    }
    body.update(extra)
    return body


def kinds(events) -> list[tuple[str, str]]:
    """(msg_type, OrderStatus or "") per event: a compact lifecycle to assert on."""
    return [(e.msg_type, e.body.get("OrderStatus", "")) for e in events]




def levels(depth: dict, side: str) -> list[tuple[float, int]]:
    """(price, volume) of the shown levels of one side ("Bid" or "Ask"), best first."""
    out = []
    for n in range(1, 6):
        volume = depth[f"{side}Volume{n}"]
        if volume:
            out.append((depth[f"{side}Price{n}"], volume))
    return out


def takeable(ex, iid: str, t: float, buy: bool, limit: float) -> int:
    """Volume a marketable order at ``limit`` may take at time ``t``: this bucket's and
    the previous bucket's opposite levels at or better than the limit."""
    side = "Ask" if buy else "Bid"
    total = 0
    for when in (t, t - TICK):
        for price, volume in levels(ex.depth(iid, when), side):
            if (price <= limit) if buy else (price >= limit):
                total += volume
    return total


def trades(events) -> list[dict]:
    return [e.body for e in events if e.msg_type == "RtnTrade"]


def last_order(events) -> dict:
    return [e.body for e in events if e.msg_type == "RtnOrder"][-1]
