"""Orders both ways: CTP InputOrder -> place_order arguments, Futu order/deal -> Order/Trade.

Futu orders carry no CTP identity, so the bridge writes it into the order's ``remark``
(``wsb:<FrontID>:<SessionID>:<OrderRef>``) and reads it back from every order push; orders
placed elsewhere (the Futu app) come back with an empty OrderRef and FrontID/SessionID 0.
Futu's order id is the OrderSysID, its deal id the TradeID.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

# CTP enum characters.
BUY, SELL = "0", "1"
OPEN, CLOSE = "0", "1"
CLOSES = ("1", "3", "4")  # close, close today, close yesterday
ANY_PRICE, LIMIT_PRICE = "1", "2"
IOC, GFD, GTC = "1", "3", "5"
VC_ANY, VC_ALL = "1", "3"
IMMEDIATELY = "1"
SPECULATION = "1"

# Futu TrdSide <-> (Direction, offset).
SIDE_OF = {(BUY, OPEN): "BUY", (SELL, CLOSE): "SELL", (SELL, OPEN): "SELL_SHORT",
           (BUY, CLOSE): "BUY_BACK"}
DIRECTION_OF = {"BUY": (BUY, OPEN), "SELL": (SELL, CLOSE), "SELL_SHORT": (SELL, OPEN),
                "BUY_BACK": (BUY, CLOSE)}

# Futu OrderType -> (OrderPriceType, TimeCondition, VolumeCondition) for RtnOrder.
PRICE_TERMS_OF = {
    "NORMAL": (LIMIT_PRICE, GFD, VC_ANY),
    "ABSOLUTE_LIMIT": (LIMIT_PRICE, GFD, VC_ANY),
    "MARKET": (ANY_PRICE, IOC, VC_ANY),
    "SPECIAL_LIMIT": (LIMIT_PRICE, IOC, VC_ANY),
    "SPECIAL_LIMIT_ALL": (LIMIT_PRICE, IOC, VC_ALL),
    "AUCTION": (ANY_PRICE, GFD, VC_ANY),
    "AUCTION_LIMIT": (LIMIT_PRICE, GFD, VC_ANY),
}

# Futu OrderStatus -> (CTP OrderStatus, OrderSubmitStatus). '3' accepted, '0' submitted,
# '4' insert rejected, '2' cancel submitted... (see DESIGN.md for the enums).
STATUS_OF: dict[str, tuple[str, str]] = {
    "UNSUBMITTED": ("a", "0"),
    "WAITING_SUBMIT": ("a", "0"),
    "SUBMITTING": ("a", "0"),
    "TIMEOUT": ("a", "0"),
    "SUBMITTED": ("3", "3"),
    "FILLED_PART": ("1", "3"),
    "FILLED_ALL": ("0", "3"),
    "CANCELLING_PART": ("1", "1"),
    "CANCELLING_ALL": ("3", "1"),
    "CANCELLED_PART": ("5", "3"),
    "CANCELLED_ALL": ("5", "3"),
    "SUBMIT_FAILED": ("5", "4"),
    "FAILED": ("5", "4"),
    "DISABLED": ("5", "3"),
    "DELETED": ("5", "3"),
    "FILL_CANCELLED": ("5", "3"),
}
PENDING = frozenset({"UNSUBMITTED", "WAITING_SUBMIT", "SUBMITTING", "TIMEOUT"})
TERMINAL = frozenset({"FILLED_ALL", "CANCELLED_PART", "CANCELLED_ALL", "SUBMIT_FAILED",
                      "FAILED", "DISABLED", "DELETED", "FILL_CANCELLED"})

REMARK_PREFIX = "wsb:"


@dataclass(frozen=True, slots=True)
class OrderArgs:
    """What ``place_order`` is called with (code and account added by the caller)."""

    trd_side: str
    order_type: str
    price: float
    qty: float
    time_in_force: str = "DAY"


@dataclass(frozen=True, slots=True)
class Identity:
    """CTP's name for an order: (FrontID, SessionID, OrderRef)."""

    front_id: int = 0
    session_id: int = 0
    order_ref: str = ""

    def remark(self) -> str:
        return f"{REMARK_PREFIX}{self.front_id}:{self.session_id}:{self.order_ref}"


def _bad(detail: str) -> CtpError:
    return CtpError(errors.BAD_ORDER_FIELD, detail=detail)


def order_args(input_order: dict) -> OrderArgs:
    """Translate an InputOrder into place_order arguments; CtpError(15) naming the field."""
    direction = input_order.get("Direction") or ""
    if direction not in (BUY, SELL):
        raise _bad(f"Direction must be '0' (buy) or '1' (sell), got {direction!r}")
    offset = (input_order.get("CombOffsetFlag") or OPEN)[:1]
    if offset in CLOSES:
        offset = CLOSE
    elif offset != OPEN:
        raise _bad(f"CombOffsetFlag must be '0' (open) or '1'/'3'/'4' (close), got {offset!r}")
    volume = input_order.get("VolumeTotalOriginal")
    if not isinstance(volume, int) or isinstance(volume, bool) or volume <= 0:
        raise _bad(f"VolumeTotalOriginal must be a positive integer, got {volume!r}")
    contingent = input_order.get("ContingentCondition") or IMMEDIATELY
    if contingent != IMMEDIATELY:
        raise _bad(f"ContingentCondition {contingent!r} is not supported: only '1' "
                   "(immediately)")
    price_type = input_order.get("OrderPriceType") or LIMIT_PRICE
    time_cond = input_order.get("TimeCondition") or GFD
    volume_cond = input_order.get("VolumeCondition") or VC_ANY
    side = SIDE_OF[(direction, offset)]
    if price_type == ANY_PRICE:
        return OrderArgs(side, "MARKET", 0.0, float(volume))
    if price_type != LIMIT_PRICE:
        raise _bad(f"OrderPriceType {price_type!r} is not supported: use '1' (any price, "
                   "a market order) or '2' (limit)")
    price = input_order.get("LimitPrice")
    if not isinstance(price, (int, float)) or isinstance(price, bool) or not (
            math.isfinite(price) and price > 0):
        raise _bad(f"LimitPrice must be a positive number for a limit order, got {price!r}")
    if time_cond == GFD:
        return OrderArgs(side, "NORMAL", float(price), float(volume), "DAY")
    if time_cond == GTC:
        return OrderArgs(side, "NORMAL", float(price), float(volume), "GTC")
    if time_cond == IOC:
        kind = "SPECIAL_LIMIT_ALL" if volume_cond == VC_ALL else "SPECIAL_LIMIT"
        return OrderArgs(side, kind, float(price), float(volume))
    raise _bad(f"TimeCondition {time_cond!r} is not supported: use '3' (GFD), '5' (GTC) "
               "or '1' (IOC)")


def parse_remark(remark: str | None) -> Identity | None:
    """The identity the bridge wrote into a remark, or None for any other remark."""
    if not remark or not remark.startswith(REMARK_PREFIX):
        return None
    parts = remark[len(REMARK_PREFIX):].split(":", 2)
    if len(parts) != 3:
        return None
    front, session, ref = parts
    try:
        return Identity(int(front), int(session), ref)
    except ValueError:
        return None


def ctp_status(futu_status: str) -> tuple[str, str]:
    """(OrderStatus, OrderSubmitStatus) for a Futu OrderStatus name; unknown -> 'a'."""
    return STATUS_OF.get(futu_status, ("a", "0"))


def _rank(status: str) -> int:
    if status in TERMINAL:
        return 2
    if status in PENDING:
        return 0
    return 1


def is_newer(previous: tuple[str, float] | None, current: tuple[str, float]) -> bool:
    """Whether an order state (status, dealt qty) should be reported after ``previous``.

    The same order reaches the bridge by push, by place_order's own answer and by queries,
    in any order; a state is dropped when it repeats or would step back (less filled, or
    out of a final status, or back to pending).
    """
    if previous is None:
        return True
    old_status, old_dealt = previous
    status, dealt = current
    if dealt != old_dealt:
        return dealt > old_dealt
    if status == old_status:
        return False
    return _rank(status) >= _rank(old_status) and old_status not in TERMINAL


def split_time(futu_time: str) -> tuple[str, str]:
    """``"2024-06-05 10:20:30.123"`` -> ``("20240605", "10:20:30")``."""
    date, _, clock = (futu_time or "").strip().partition(" ")
    return date.replace("-", ""), clock.split(".", 1)[0]


def _volume(value: object) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    return round(number) if math.isfinite(number) else 0


def _price(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def ctp_order(order: dict, instrument_id: str, exchange_id: str, investor_id: str,
              user_id: str = "", broker_id: str = "", currency: str = "") -> dict:
    """A CThostFtdcOrderField dict from a Futu order (as futu-api's order list rows)."""
    status = str(order.get("order_status", ""))
    order_status, submit_status = ctp_status(status)
    identity = parse_remark(order.get("remark")) or Identity()
    direction, offset = DIRECTION_OF.get(str(order.get("trd_side", "")), (BUY, OPEN))
    price_type, time_cond, volume_cond = PRICE_TERMS_OF.get(
        str(order.get("order_type", "")), (LIMIT_PRICE, GFD, VC_ANY))
    if time_cond == GFD and order.get("time_in_force") == "GTC":
        time_cond = GTC
    qty = _volume(order.get("qty"))
    dealt = _volume(order.get("dealt_qty"))
    insert_date, insert_time = split_time(str(order.get("create_time", "")))
    _, update_time = split_time(str(order.get("updated_time", "")))
    error_text = str(order.get("last_err_msg") or "")
    order_id = str(order.get("order_id", ""))
    return catalog.filled("Order", {
        "BrokerID": broker_id,
        "InvestorID": investor_id,
        "UserID": user_id,
        "AccountID": investor_id,
        "CurrencyID": currency,
        "InstrumentID": instrument_id,
        "ExchangeID": exchange_id,
        "ExchangeInstID": instrument_id,
        "OrderRef": identity.order_ref,
        "FrontID": identity.front_id,
        "SessionID": identity.session_id,
        "OrderSysID": order_id,
        "OrderLocalID": order_id[-12:],
        "Direction": direction,
        "CombOffsetFlag": offset,
        "CombHedgeFlag": SPECULATION,
        "OrderPriceType": price_type,
        "TimeCondition": time_cond,
        "VolumeCondition": volume_cond,
        "ContingentCondition": IMMEDIATELY,
        "ForceCloseReason": "0",
        "LimitPrice": _price(order.get("price")),
        "VolumeTotalOriginal": qty,
        "VolumeTraded": dealt,
        "VolumeTotal": max(qty - dealt, 0),
        "MinVolume": qty if volume_cond == VC_ALL else 1,
        "OrderStatus": order_status,
        "OrderSubmitStatus": submit_status,
        "OrderSource": "0",
        "OrderType": "0",
        "TradingDay": insert_date,
        "InsertDate": insert_date,
        "InsertTime": insert_time,
        "UpdateTime": update_time,
        "CancelTime": update_time if status.startswith("CANCELLED") else "",
        "StatusMsg": error_text or status,
    })


def ctp_trade(deal: dict, instrument_id: str, exchange_id: str, investor_id: str,
              identity: Identity | None = None, offset: str | None = None,
              user_id: str = "", broker_id: str = "") -> dict:
    """A CThostFtdcTradeField dict from a Futu deal (as futu-api's deal list rows)."""
    direction, side_offset = DIRECTION_OF.get(str(deal.get("trd_side", "")), (BUY, OPEN))
    date, clock = split_time(str(deal.get("create_time", "")))
    identity = identity or Identity()
    return catalog.filled("Trade", {
        "BrokerID": broker_id,
        "InvestorID": investor_id,
        "UserID": user_id,
        "InstrumentID": instrument_id,
        "ExchangeID": exchange_id,
        "ExchangeInstID": instrument_id,
        "OrderRef": identity.order_ref,
        "TradeID": str(deal.get("deal_id", "")),
        "OrderSysID": str(deal.get("order_id", "")),
        "Direction": direction,
        "OffsetFlag": offset or side_offset,
        "HedgeFlag": SPECULATION,
        "Price": _price(deal.get("price")),
        "Volume": _volume(deal.get("qty")),
        "TradeDate": date,
        "TradeTime": clock,
        "TradingDay": date,
        "TradeType": "0",
        "PriceSource": "0",
        "TradeSource": "0",
    })
