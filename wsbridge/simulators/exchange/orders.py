"""Orders: checking an InputOrder like a CTP front, and the state of an accepted order.

:func:`parse` turns a normalized InputOrder into an :class:`Intent` or raises CtpError(15)
naming the bad field. :class:`WorkingOrder` is an accepted order: its live
CThostFtdcOrderField dict plus what the engine needs to freeze money and positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wsbridge.protocol.errors import BAD_ORDER_FIELD, CtpError
from wsbridge.simulators.exchange import ctp
from wsbridge.simulators.exchange.instruments import Instrument
from wsbridge.simulators.exchange.market import Quote

_DEFAULTS = {
    "OrderPriceType": ctp.LIMIT_PRICE,
    "TimeCondition": ctp.GFD,
    "VolumeCondition": ctp.VC_ANY,
    "ContingentCondition": ctp.IMMEDIATELY,
    "CombHedgeFlag": ctp.SPECULATION,
    "ForceCloseReason": "0",
}
_CLOSES = (ctp.CLOSE, ctp.CLOSE_TODAY, ctp.CLOSE_YESTERDAY)


def normalize(body: dict, broker_id: str, user_id: str) -> dict:
    """A full InputOrder dict from a client's (possibly partial) one.

    Unknown keys are dropped; BrokerID/InvestorID/UserID default to the session's; empty
    enum fields that every CTP client sets the same way get CTP's usual value (limit price,
    GFD, any volume, immediately, speculation).
    """
    out = ctp.read("InputOrder", body)
    out["BrokerID"] = out["BrokerID"] or broker_id
    out["InvestorID"] = out["InvestorID"] or user_id
    out["UserID"] = out["UserID"] or user_id
    for key, default in _DEFAULTS.items():
        if not out[key]:
            out[key] = default
    out["OrderRef"] = str(out["OrderRef"]).strip()
    return out


@dataclass(frozen=True, slots=True)
class Intent:
    """What a checked order asks for."""

    buy: bool
    offset: str  # ctp.OPEN / CLOSE / CLOSE_TODAY / CLOSE_YESTERDAY
    volume: int
    limit: int | None  # ticks; None: market order
    freeze_price: float  # the price money is frozen at (market orders: the price limit)
    immediate: bool  # IOC or market: no remainder rests
    min_fill: int  # the least volume that must fill at once (FOK: all; MV: MinVolume)


def _bad(what: str) -> CtpError:
    return CtpError(BAD_ORDER_FIELD, f"CTP:Bad field in order: {what}")


def _number(value: object, name: str, kind: type) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(f"{name} must be a number")
    if kind is int and value != int(value):
        raise _bad(f"{name} must be a whole number")
    if not math.isfinite(value):
        raise _bad(f"{name} must be finite")
    return kind(value)


def parse(inp: dict, inst: Instrument, quote: Quote) -> Intent:
    """Check a normalized InputOrder against ``inst`` and today's limits (``quote``)."""
    direction = inp["Direction"]
    if direction not in (ctp.BUY, ctp.SELL):
        raise _bad("Direction must be '0' (buy) or '1' (sell)")
    offset = str(inp["CombOffsetFlag"])[:1]
    if offset not in (ctp.OPEN, *_CLOSES):
        raise _bad("CombOffsetFlag must be '0' open, '1' close, '3' close today or '4' "
                   "close yesterday")
    if str(inp["CombHedgeFlag"])[:1] != ctp.SPECULATION:
        raise _bad("CombHedgeFlag: only '1' (speculation) is supported")
    price_type = inp["OrderPriceType"]
    if price_type not in (ctp.ANY_PRICE, ctp.LIMIT_PRICE):
        raise _bad("OrderPriceType must be '1' (any price) or '2' (limit)")
    time_cond = inp["TimeCondition"]
    if time_cond not in (ctp.IOC, ctp.GFD):
        raise _bad("TimeCondition must be '1' (IOC) or '3' (GFD)")
    vol_cond = inp["VolumeCondition"]
    if vol_cond not in (ctp.VC_ANY, ctp.VC_MIN, ctp.VC_ALL):
        raise _bad("VolumeCondition must be '1' (any), '2' (min) or '3' (all)")
    if inp["ContingentCondition"] != ctp.IMMEDIATELY:
        raise _bad("ContingentCondition: only '1' (immediately) is supported")
    buy = direction == ctp.BUY
    if inst.is_stock and not buy and offset == ctp.OPEN:
        raise _bad(f"{inst.id} is a stock: short selling (sell to open) is not allowed")
    volume = _number(inp["VolumeTotalOriginal"], "VolumeTotalOriginal", int)
    market = price_type == ctp.ANY_PRICE
    fields = inst.fields
    most = fields["MaxMarketOrderVolume" if market else "MaxLimitOrderVolume"]
    if volume <= 0:
        raise _bad("VolumeTotalOriginal must be > 0")
    if volume > most:
        raise _bad(f"VolumeTotalOriginal {volume} exceeds the maximum {most} per order")
    lot = inst.spec.lot
    if volume % lot:
        raise _bad(f"VolumeTotalOriginal must be a multiple of the lot size {lot}")
    if market:
        limit = None
        freeze = inst.price(quote.upper if buy else quote.lower)
    else:
        price = _number(inp["LimitPrice"], "LimitPrice", float)
        if not inst.on_grid(price):
            raise _bad(f"LimitPrice {price} is not a multiple of PriceTick {inst.spec.tick}")
        limit = inst.ticks(price)
        if not quote.lower <= limit <= quote.upper:
            raise _bad(
                f"LimitPrice {price} is outside today's limits "
                f"[{inst.price(quote.lower)}, {inst.price(quote.upper)}]"
            )
        freeze = inst.price(limit)
    min_fill = 0
    if vol_cond == ctp.VC_ALL:
        min_fill = volume
    elif vol_cond == ctp.VC_MIN:
        min_fill = _number(inp["MinVolume"], "MinVolume", int)
        if not 1 <= min_fill <= volume:
            raise _bad("MinVolume must be between 1 and VolumeTotalOriginal")
    return Intent(
        buy=buy, offset=offset, volume=volume, limit=limit, freeze_price=freeze,
        immediate=market or time_cond == ctp.IOC, min_fill=min_fill,
    )


@dataclass(slots=True, eq=False)
class WorkingOrder:
    """An accepted order and what it has frozen."""

    sys_id: str
    account: str
    instrument_id: str
    order: dict  # CThostFtdcOrderField, kept current
    buy: bool
    offset: str
    limit: int | None
    seq: int  # time priority
    margin_unit: float = 0.0  # opens: margin frozen per unfilled unit
    fee_unit: float = 0.0  # opens: commission frozen per unfilled unit
    close_yd: int = 0  # closes: unfilled volume frozen against earlier lots
    close_today: int = 0  # closes: ... against today's lots
    fee_unit_yd: float = 0.0
    fee_unit_today: float = 0.0

    @property
    def remaining(self) -> int:
        return self.order["VolumeTotal"]

    @property
    def working(self) -> bool:
        return self.order["OrderStatus"] in ctp.WORKING

    @property
    def is_open(self) -> bool:
        return self.offset == ctp.OPEN

    def frozen_margin(self) -> float:
        return self.remaining * self.margin_unit if self.working and self.is_open else 0.0

    def frozen_commission(self) -> float:
        if not self.working:
            return 0.0
        if self.is_open:
            return self.remaining * self.fee_unit
        return self.close_yd * self.fee_unit_yd + self.close_today * self.fee_unit_today

    def record(self) -> dict:
        return {
            "sys_id": self.sys_id, "account": self.account,
            "instrument_id": self.instrument_id, "order": self.order, "buy": self.buy,
            "offset": self.offset, "limit": self.limit, "seq": self.seq,
            "margin_unit": self.margin_unit, "fee_unit": self.fee_unit,
            "close_yd": self.close_yd, "close_today": self.close_today,
            "fee_unit_yd": self.fee_unit_yd, "fee_unit_today": self.fee_unit_today,
        }

    @classmethod
    def from_record(cls, data: dict) -> WorkingOrder:
        return cls(**data)


def priority(order: WorkingOrder) -> tuple[int, int]:
    """Sort key: better price first, then earlier."""
    assert order.limit is not None
    return (-order.limit if order.buy else order.limit, order.seq)
