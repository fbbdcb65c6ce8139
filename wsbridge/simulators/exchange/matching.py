"""Price-time matching against the synthetic book.

An incoming order may take the displayed levels of the current bucket and of the previous
one (a quote seen one tick ago is still good); each level's volume can be taken once per
bucket, whoever takes it. A resting order fills as the passive side, at its own limit price,
when a later bucket's opposite levels cross it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wsbridge.simulators.exchange.market import Quote


@dataclass(frozen=True, slots=True)
class Level:
    """Volume still available at one price of one bucket's book (price in ticks)."""

    price: int
    bucket: int
    volume: int


class Liquidity:
    """Displayed volume already taken, per (instrument, bucket, side, price)."""

    def __init__(self) -> None:
        self._taken: dict[tuple[str, int, bool, int], int] = {}

    def left(self, quote: Quote, ask_side: bool) -> list[Level]:
        """The levels of ``quote``'s ask (or bid) side with their untaken volume."""
        side = quote.asks if ask_side else quote.bids
        out = []
        iid, bucket = quote.instrument_id, quote.bucket
        for price, shown in side:
            volume = shown - self._taken.get((iid, bucket, ask_side, price), 0)
            if volume > 0:
                out.append(Level(price, quote.bucket, volume))
        return out

    def take(self, instrument_id: str, ask_side: bool, level: Level, volume: int) -> None:
        key = (instrument_id, level.bucket, ask_side, level.price)
        self._taken[key] = self._taken.get(key, 0) + volume

    def forget_before(self, bucket: int) -> None:
        """Drop bookkeeping for buckets older than ``bucket``."""
        self._taken = {k: v for k, v in self._taken.items() if k[1] >= bucket}


def crossing(
    quotes: Iterable[Quote], buy: bool, limit: int | None, liquidity: Liquidity
) -> list[Level]:
    """Opposite levels a buy (sell) with ``limit`` may take: best price first, newest first.

    ``limit`` None is a market order (any price within the limits, which the book already
    respects).
    """
    levels: list[Level] = []
    for quote in quotes:
        for level in liquidity.left(quote, ask_side=buy):
            if limit is None or (level.price <= limit if buy else level.price >= limit):
                levels.append(level)
    levels.sort(key=lambda lv: (lv.price if buy else -lv.price, -lv.bucket))
    return levels


def allocate(levels: list[Level], volume: int) -> list[tuple[Level, int]]:
    """Take up to ``volume`` from ``levels`` in order: (level, volume taken) pairs."""
    out = []
    for level in levels:
        if volume <= 0:
            break
        take = min(volume, level.volume)
        out.append((level, take))
        volume -= take
    return out


def available(levels: list[Level]) -> int:
    return sum(level.volume for level in levels)
