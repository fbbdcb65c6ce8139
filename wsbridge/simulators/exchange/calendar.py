"""Wall clock to trading calendar: the sim trades 24/7 and its trading day is the local date."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Day:
    """One trading day: ``[start_ms, end_ms)`` in epoch milliseconds."""

    trading_day: str  # YYYYMMDD
    ordinal: int  # proleptic Gregorian ordinal, a stable day number
    start_ms: int
    end_ms: int

    @property
    def minutes(self) -> int:
        return -(-(self.end_ms - self.start_ms) // MINUTE_MS)


class Calendar:
    """Local dates and times of epoch instants, at a fixed UTC offset or the host's zone."""

    def __init__(self, utc_offset_minutes: int | None = None) -> None:
        self._tz = (
            None if utc_offset_minutes is None
            else dt.timezone(dt.timedelta(minutes=utc_offset_minutes))
        )
        self._day: Day | None = None

    def _local(self, t_ms: int) -> dt.datetime:
        when = dt.datetime.fromtimestamp(t_ms / 1000, self._tz)
        return when if self._tz is not None else when.astimezone()

    def day(self, t_ms: int) -> Day:
        """The trading day containing instant ``t_ms``."""
        day = self._day
        if day is not None and day.start_ms <= t_ms < day.end_ms:
            return day
        date = self._local(t_ms).date()
        day = self.day_of(date)
        self._day = day
        return day

    def day_of(self, date: dt.date) -> Day:
        """The trading day of a calendar date."""
        start = self._midnight(date)
        end = self._midnight(date + dt.timedelta(days=1))
        return Day(date.strftime("%Y%m%d"), date.toordinal(), start, end)

    def _midnight(self, date: dt.date) -> int:
        naive = dt.datetime(date.year, date.month, date.day)
        aware = naive.astimezone() if self._tz is None else naive.replace(tzinfo=self._tz)
        return int(aware.timestamp() * 1000)

    def clock_time(self, t_ms: int) -> str:
        """``HH:MM:SS`` local time of ``t_ms``."""
        return self._local(t_ms).strftime("%H:%M:%S")

    def date(self, t_ms: int) -> str:
        """``YYYYMMDD`` local date of ``t_ms``."""
        return self._local(t_ms).strftime("%Y%m%d")


def to_ms(t: float) -> int:
    """Epoch seconds to whole epoch milliseconds (floor)."""
    return math.floor(t * 1000)
