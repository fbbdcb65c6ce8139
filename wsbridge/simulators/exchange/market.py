"""The synthetic market: a pure function of (seed, instrument, time bucket).

Any process with the same seed computes the same book for the same bucket, which is how the
md and td servers agree on prices. Three layers, all from counter-based hashes:

* day anchors: ``log A(d)`` is a moving sum of the last 60 hashed daily steps, so prices
  wander around the reference price without drifting away; ``A(d)`` is day d's previous
  settlement (and close);
* a per-minute path for the day: a random walk bridged from ``A(d)`` to ``A(d+1)``,
  clamped to the day's price limits;
* within a minute, a bridge of hashed fine steps kept between the two minute points, so
  the day's high/low are exact from the minute points alone.

The book of a bucket is built around the last price: a hashed spread of 1-3 ticks, the
last price at the bid or the ask, five levels a tick apart with hashed volumes; levels
beyond the price limits are absent (limit up: no asks; limit down: no bids).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from itertools import accumulate

from wsbridge.simulators.exchange import ctp, rng
from wsbridge.simulators.exchange.calendar import MINUTE_MS, Calendar, Day
from wsbridge.simulators.exchange.instruments import UNIT_AVERAGE_EXCHANGES, Instrument

ANCHOR_WINDOW = 60  # days in the moving sum behind day anchors
_BLOCK = 64  # day steps hashed per block
INTRADAY_FACTOR = 2.0  # intraday volatility relative to the daily move
LEVELS = 5


@dataclass(frozen=True, slots=True)
class Quote:
    """The book of one instrument in one bucket; prices in whole ticks, best level first."""

    instrument_id: str
    bucket: int
    last: int
    bids: tuple[tuple[int, int], ...]  # (price ticks, volume)
    asks: tuple[tuple[int, int], ...]
    upper: int
    lower: int
    pre_settle: int


class _DayPath:
    """One instrument's minute points and cumulative statistics for one trading day."""

    __slots__ = (
        "_c",
        "_hi_px",
        "_hl",
        "_lo_px",
        "_log_a",
        "_sigma",
        "_walk",
        "cum_turnover",
        "cum_volume",
        "lower",
        "minute_volume",
        "oi_phase",
        "pre_oi",
        "pre_settle",
        "ticks",
        "upper",
    )

    def __init__(self, market: Market, inst: Instrument, day: Day) -> None:
        spec = inst.spec
        tick = spec.tick
        minutes = day.minutes
        log_a = market.log_anchor(inst, day.ordinal)
        log_b = market.log_anchor(inst, day.ordinal + 1)
        self.pre_settle = max(1, inst.ticks(math.exp(log_a)))
        self.upper = upper = math.floor(self.pre_settle * (1 + spec.limit) + 1e-9)
        self.lower = lower = max(1, math.ceil(self.pre_settle * (1 - spec.limit) - 1e-9))
        self._lo_px, self._hi_px = lower * tick, upper * tick
        raw = rng.steps(2 * minutes, market.seed, inst.id, "minute", day.ordinal)
        walk = list(accumulate(raw[:minutes], initial=0.0))
        sigma = INTRADAY_FACTOR * spec.volatility / math.sqrt(minutes)
        # x(m) = log_a + c*m + sigma*walk[m]: a walk bridged from log_a to log_b
        c = (log_b - log_a - sigma * walk[-1]) / minutes
        self._log_a, self._c, self._sigma, self._walk = log_a, c, sigma, walk
        exp = math.exp
        ticks = [round(exp(log_a + c * m + sigma * w) / tick) for m, w in enumerate(walk)]
        self.ticks = [lower if t < lower else upper if t > upper else t for t in ticks]
        self._hl = (0, self.ticks[0], self.ticks[0])
        base = spec.depth_volume * 3
        k = 1.0 / 3.4641016151377544  # volumes spread +-50% around base
        self.minute_volume = [round(base * (1.0 + u * k)) * spec.lot for u in raw[minutes:]]
        self.cum_volume = list(accumulate(self.minute_volume, initial=0))
        # in tick units: multiply by tick * VolumeMultiple for money
        self.cum_turnover = list(
            accumulate(map(operator.mul, self.minute_volume, self.ticks), initial=0)
        )
        u_oi, u_phase = rng.uniforms(2, market.seed, inst.id, "oi", day.ordinal)
        self.pre_oi = 0 if inst.is_stock else round(spec.depth_volume * 3000 * (0.8 + 0.4 * u_oi))
        self.oi_phase = 2 * math.pi * u_phase

    def mid(self, m: int) -> float:
        """The unrounded price at minute point ``m``, within the price limits."""
        p = math.exp(self._log_a + self._c * m + self._sigma * self._walk[m])
        return min(max(p, self._lo_px), self._hi_px)

    def high_low(self, m: int) -> tuple[int, int]:
        """Highest and lowest minute point from the open through minute ``m``, in ticks."""
        done, hi, lo = self._hl
        if m < done:
            done, hi, lo = 0, self.ticks[0], self.ticks[0]
        if m > done:
            part = self.ticks[done + 1 : m + 1]
            hi, lo = max(hi, max(part)), min(lo, min(part))
            self._hl = (m, hi, lo)
        return hi, lo


class _MinutePath:
    """The fine path inside one minute, in ticks, with running high/low.

    Built lazily up to the bucket asked for: a md server at a 10 ms tick would otherwise
    compute 6,000 points per instrument at every minute boundary in one go. The bridge
    only needs the walk's end, which is a C-speed sum over the hashed words.
    """

    __slots__ = ("_a", "_bridge", "_hi", "_lo", "_step", "_tick", "_walk", "_words",
                 "count", "high", "low", "ticks")

    def __init__(self, market: Market, inst: Instrument, day: Day, path: _DayPath, m: int):
        count = self.count = market.fine_steps
        a, b = path.mid(m), path.mid(m + 1)
        self._a, self._lo, self._hi = a, min(a, b), max(a, b)
        sigma = a * INTRADAY_FACTOR * inst.spec.volatility / math.sqrt(day.minutes * count)
        self._words = rng.words(count, market.seed, inst.id, "fine", day.ordinal, m)
        end = rng.steps_sum(self._words)
        self._step = sigma  # walk increments are scaled by sigma
        # p(i) = a + f*(b - a) + sigma*(walk[i] - f*end), f = i/count
        self._bridge = ((b - a) - sigma * end) / count
        self._tick = inst.spec.tick
        self._walk = 0.0
        first = path.ticks[m]
        self.ticks, self.high, self.low = [first], [first], [first]

    def at(self, i: int) -> tuple[int, int, int]:
        """(last, running high, running low) at fine point ``i``, in ticks."""
        ticks = self.ticks
        if i >= len(ticks):
            self._extend(i)
        return ticks[i], self.high[i], self.low[i]

    def _extend(self, i: int) -> None:
        ticks, high, low = self.ticks, self.high, self.low
        words, to_step = self._words, rng.word_to_step
        a, bridge, sigma, tick = self._a, self._bridge, self._step, self._tick
        lo, hi, walk = self._lo, self._hi, self._walk
        for j in range(len(ticks), min(i, self.count - 1) + 1):
            walk += to_step(words[j - 1])
            p = a + j * bridge + sigma * walk
            t = round((lo if p < lo else hi if p > hi else p) / tick)
            ticks.append(t)
            high.append(t if t > high[-1] else high[-1])
            low.append(t if t < low[-1] else low[-1])
        self._walk = walk


class Market:
    """Quotes and DepthMarketData for any instrument at any bucket; caches recent work."""

    def __init__(self, seed: int, tick_interval_ms: int, calendar: Calendar) -> None:
        self.seed = seed
        self.tick_ms = tick_interval_ms
        self.calendar = calendar
        self.fine_steps = -(-MINUTE_MS // tick_interval_ms)
        self._blocks: dict[tuple[str, int], list[float]] = {}
        self._days: dict[str, tuple[int, _DayPath, int, _DayPath | None]] = {}
        self._minutes: dict[str, dict[tuple[int, int], _MinutePath]] = {}
        self._quotes: dict[str, dict[int, Quote]] = {}
        self._clock: tuple[int, str] = (-1, "")

    def bucket(self, t_ms: int) -> int:
        """The bucket containing instant ``t_ms``."""
        return t_ms // self.tick_ms

    # -- day anchors ------------------------------------------------------------------

    def log_anchor(self, inst: Instrument, ordinal: int) -> float:
        """log of day ``ordinal``'s previous settlement price (before rounding)."""
        total = 0.0
        first = ordinal - ANCHOR_WINDOW + 1
        for block in range(first // _BLOCK, ordinal // _BLOCK + 1):
            values = self._block(inst.id, block)
            lo = max(first - block * _BLOCK, 0)
            hi = min(ordinal - block * _BLOCK + 1, _BLOCK)
            total += sum(values[lo:hi])
        sigma = inst.spec.volatility / math.sqrt(2.0)
        return math.log(inst.spec.price) + sigma * total

    def _block(self, iid: str, block: int) -> list[float]:
        key = (iid, block)
        values = self._blocks.get(key)
        if values is None:
            if len(self._blocks) > 100_000:
                self._blocks.clear()
            values = self._blocks[key] = rng.steps(_BLOCK, self.seed, iid, "day", block)
        return values

    def settlement(self, inst: Instrument, day: Day) -> float:
        """Day ``day``'s previous settlement price (the close of the day before)."""
        return inst.price(self._day_path(inst, day).pre_settle)

    def _day_path(self, inst: Instrument, day: Day) -> _DayPath:
        cached = self._days.get(inst.id)
        if cached is not None:
            if cached[0] == day.ordinal:
                return cached[1]
            if cached[2] == day.ordinal and cached[3] is not None:
                return cached[3]
        path = _DayPath(self, inst, day)
        older = (cached[0], cached[1]) if cached is not None else (-1, None)
        self._days[inst.id] = (day.ordinal, path, *older)
        return path

    def _minute_path(self, inst: Instrument, day: Day, path: _DayPath, m: int) -> _MinutePath:
        cache = self._minutes.setdefault(inst.id, {})
        key = (day.ordinal, m)
        fine = cache.get(key)
        if fine is None:
            if len(cache) >= 3:
                cache.pop(next(iter(cache)))
            fine = cache[key] = _MinutePath(self, inst, day, path, m)
        return fine

    # -- quotes -----------------------------------------------------------------------

    def _position(self, bucket: int) -> tuple[int, Day, int, int]:
        t_ms = bucket * self.tick_ms
        day = self.calendar.day(t_ms)
        offset = t_ms - day.start_ms
        m = offset // MINUTE_MS
        i = (offset - m * MINUTE_MS) // self.tick_ms
        return t_ms, day, m, i

    def quote(self, inst: Instrument, bucket: int) -> Quote:
        """The book of ``inst`` in ``bucket``."""
        cache = self._quotes.setdefault(inst.id, {})
        quote = cache.get(bucket)
        if quote is not None:
            return quote
        _, day, m, i = self._position(bucket)
        path = self._day_path(inst, day)
        last = self._minute_path(inst, day, path, m).at(i)[0]
        quote = self._book(inst, bucket, last, path)
        if len(cache) >= 4:
            cache.pop(next(iter(cache)))
        cache[bucket] = quote
        return quote

    def _book(self, inst: Instrument, bucket: int, last: int, path: _DayPath) -> Quote:
        h = rng.small(2 + 2 * LEVELS, self.seed, inst.id, "book", bucket)
        r = h[0] % 20
        spread = 1 if r < 16 else 2 if r < 19 else 3
        if h[1] & 1:
            bid1, ask1 = last, last + spread
        else:
            bid1, ask1 = last - spread, last
        spec = inst.spec
        bids, asks = [], []
        for k in range(LEVELS):
            cap = max(1, round(spec.depth_volume * (1 + 0.5 * k)))
            bid, ask = bid1 - k, ask1 + k
            if bid >= path.lower:
                bids.append((bid, (1 + h[2 + k] % (2 * cap)) * spec.lot))
            if ask <= path.upper:
                asks.append((ask, (1 + h[2 + LEVELS + k] % (2 * cap)) * spec.lot))
        return Quote(
            inst.id, bucket, last, tuple(bids), tuple(asks), path.upper, path.lower,
            path.pre_settle,
        )

    def depth(self, inst: Instrument, bucket: int) -> dict:
        """A full CThostFtdcDepthMarketDataField dict for ``inst`` at ``bucket``."""
        t_ms, day, m, i = self._position(bucket)
        path = self._day_path(inst, day)
        _, fine_high, fine_low = self._minute_path(inst, day, path, m).at(i)
        quote = self.quote(inst, bucket)
        high, low = path.high_low(m)
        spec = inst.spec
        steps = self.fine_steps
        volume = path.cum_volume[m] + path.minute_volume[m] * (i + 1) // steps
        partial = volume - path.cum_volume[m]
        unit = spec.tick * spec.multiplier
        turnover = (path.cum_turnover[m] + partial * path.ticks[m]) * unit
        average = turnover / volume if volume else 0.0
        if spec.exchange in UNIT_AVERAGE_EXCHANGES:
            average /= spec.multiplier
        x = (m + i / steps) / day.minutes
        oi = path.pre_oi
        if oi:
            oi += round(oi * 0.03 * (math.sin(6 * math.pi * x + path.oi_phase)
                                     - math.sin(path.oi_phase)))
        p = inst.price
        out = ctp.blank("DepthMarketData")
        out.update(
            TradingDay=day.trading_day,
            ActionDay=day.trading_day,
            InstrumentID=inst.id,
            ExchangeID=spec.exchange,
            ExchangeInstID=inst.id,
            LastPrice=p(quote.last),
            PreSettlementPrice=p(path.pre_settle),
            PreClosePrice=p(path.pre_settle),
            PreOpenInterest=float(path.pre_oi),
            OpenPrice=p(path.ticks[0]),
            HighestPrice=p(max(high, fine_high)),
            LowestPrice=p(min(low, fine_low)),
            Volume=volume,
            Turnover=round(turnover, 2),
            OpenInterest=float(oi),
            UpperLimitPrice=p(path.upper),
            LowerLimitPrice=p(path.lower),
            UpdateTime=self._clock_time(t_ms),
            UpdateMillisec=t_ms % 1000,
            AveragePrice=round(average, 4),
        )
        for k, (price, vol) in enumerate(quote.bids, 1):
            out[f"BidPrice{k}"] = p(price)
            out[f"BidVolume{k}"] = vol
        for k, (price, vol) in enumerate(quote.asks, 1):
            out[f"AskPrice{k}"] = p(price)
            out[f"AskVolume{k}"] = vol
        return out

    def _clock_time(self, t_ms: int) -> str:
        second = t_ms // 1000
        if self._clock[0] != second:
            self._clock = (second, self.calendar.clock_time(t_ms))
        return self._clock[1]
