"""Accounts: money per currency, open lots, and the day's per-position statistics.

Positions are kept as lots (one per opening trade, closed first-in first-out) plus a
:class:`Stats` record per InvestorPosition row for the day's opens, closes and fees. A lot's
``basis`` is the price its position cost and margin are measured from: the open price on the
day it was opened, the settlement price after each day roll (CTP's mark-to-market).
Everything else (balance, margin, frozen amounts) is derived, never stored twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from wsbridge.simulators.exchange import ctp
from wsbridge.simulators.exchange.instruments import Instrument


@dataclass(slots=True)
class Lot:
    """What one opening trade left open."""

    trade_id: str
    instrument_id: str
    long: bool
    open_day: str  # trading day it was opened
    open_price: float
    basis: float  # open price on its first day, then the last settlement price
    volume: int  # still open
    original: int
    margin_ratio: float
    seq: int  # FIFO order
    close_volume: int = 0
    close_amount: float = 0.0
    close_profit_by_date: float = 0.0
    close_profit_by_trade: float = 0.0


@dataclass(slots=True)
class Stats:
    """The day's activity of one InvestorPosition row."""

    yd_position: int = 0  # the row's position at the start of the day
    open_volume: int = 0
    close_volume: int = 0
    open_amount: float = 0.0
    close_amount: float = 0.0
    close_profit_by_date: float = 0.0
    close_profit_by_trade: float = 0.0
    commission: float = 0.0

    def active(self) -> bool:
        return bool(self.yd_position or self.open_volume or self.close_volume or self.commission)


RowKey = tuple[str, str, str]  # (InstrumentID, PosiDirection, PositionDate)


@dataclass(slots=True, eq=False)
class Account:
    """One investor (BrokerID:UserID) and everything it holds."""

    key: str
    broker_id: str
    user_id: str
    password: str
    open_date: str
    pre_balance: dict[str, float]  # per currency
    deposit: dict[str, float] = field(default_factory=dict)
    withdraw: dict[str, float] = field(default_factory=dict)
    confirm_date: str = ""  # settlement confirmed on (trading day); "" not yet
    confirm_time: str = ""
    lots: dict[str, Lot] = field(default_factory=dict)
    stats: dict[RowKey, Stats] = field(default_factory=dict)

    def record(self) -> dict:
        """The journaled form (lots and stats are journaled separately)."""
        return {
            "key": self.key, "broker_id": self.broker_id, "user_id": self.user_id,
            "password": self.password, "open_date": self.open_date,
            "pre_balance": self.pre_balance, "deposit": self.deposit,
            "withdraw": self.withdraw, "confirm_date": self.confirm_date,
            "confirm_time": self.confirm_time,
        }

    @classmethod
    def from_record(cls, data: dict) -> Account:
        return cls(**data)


def lot_record(lot: Lot) -> dict:
    return asdict(lot)


def row_key(inst: Instrument, long: bool, today: bool) -> RowKey:
    """The InvestorPosition row a lot belongs to (SHFE/INE split today and history)."""
    date = ctp.TODAY if today or not inst.split_today else ctp.HISTORY
    return (inst.id, ctp.LONG if long else ctp.SHORT, date)


def margin_of(inst: Instrument, price: float, volume: int) -> float:
    """Margin for ``volume`` at ``price`` (both sides use the same ratio here)."""
    return price * volume * inst.spec.multiplier * inst.spec.margin


def commission_of(inst: Instrument, kind: str, price: float, volume: int) -> float:
    """Fee for ``volume`` at ``price``; ``kind`` is "open", "close" or "close_today"."""
    spec = inst.spec
    by_money = getattr(spec, f"{kind}_ratio_by_money")
    by_volume = getattr(spec, f"{kind}_ratio_by_volume")
    return price * volume * spec.multiplier * by_money + volume * by_volume


def lots_of(account: Account, iid: str, long: bool, today: bool, day: str) -> list[Lot]:
    """Open lots of one side of an instrument, oldest first, today's or earlier ones."""
    found = [
        lot for lot in account.lots.values()
        if lot.instrument_id == iid and lot.long == long and lot.volume > 0
        and (lot.open_day == day) == today
    ]
    found.sort(key=lambda lot: lot.seq)
    return found


def held(account: Account, iid: str, long: bool, today: bool, day: str) -> int:
    return sum(lot.volume for lot in lots_of(account, iid, long, today, day))


def stats_for(account: Account, key: RowKey) -> Stats:
    stats = account.stats.get(key)
    if stats is None:
        stats = account.stats[key] = Stats()
    return stats


def open_lot(
    account: Account, inst: Instrument, trade_id: str, long: bool, price: float,
    volume: int, day: str, seq: int,
) -> tuple[Lot, RowKey]:
    """Add the lot an opening fill creates; returns it and its row."""
    lot = Lot(
        trade_id=trade_id, instrument_id=inst.id, long=long, open_day=day, open_price=price,
        basis=price, volume=volume, original=volume, margin_ratio=inst.spec.margin, seq=seq,
    )
    account.lots[trade_id] = lot
    key = row_key(inst, long, today=True)
    stats = stats_for(account, key)
    stats.open_volume += volume
    stats.open_amount += price * volume * inst.spec.multiplier
    return lot, key


def close_lots(
    account: Account, inst: Instrument, long: bool, today: bool, volume: int, price: float,
    day: str,
) -> tuple[list[Lot], RowKey]:
    """Close ``volume`` of today's (or earlier) lots FIFO at ``price``; returns touched lots.

    Raises ValueError if there is not enough (the engine checks before it gets here).
    """
    mult = inst.spec.multiplier
    sign = 1.0 if long else -1.0
    key = row_key(inst, long, today)
    stats = stats_for(account, key)
    touched = []
    for lot in lots_of(account, inst.id, long, today, day):
        if volume <= 0:
            break
        take = min(volume, lot.volume)
        by_date = sign * (price - lot.basis) * take * mult
        by_trade = sign * (price - lot.open_price) * take * mult
        lot.volume -= take
        lot.close_volume += take
        lot.close_amount += price * take * mult
        lot.close_profit_by_date += by_date
        lot.close_profit_by_trade += by_trade
        stats.close_volume += take
        stats.close_amount += price * take * mult
        stats.close_profit_by_date += by_date
        stats.close_profit_by_trade += by_trade
        touched.append(lot)
        volume -= take
    if volume > 0:
        raise ValueError("close exceeds the open lots")
    return touched, key
