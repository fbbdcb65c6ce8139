"""CTP orders <-> IB orders: ReqOrderInsert to an IB order, IB state to Order and Trade.

An IB order is described by plain values here (:class:`OrderSpec`); the adapter turns them
into ib-insync objects. Everything the bridge knows about an order it placed for a CTP
client (its InputOrder, FrontID, SessionID, insert time) is an :class:`OrderOrigin`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

# CTP enum characters used below (CThostFtdc*Type).
BUY, SELL = "0", "1"
ANY_PRICE, LIMIT = "1", "2"
IOC, GFS, GFD, GTD, GTC = "1", "2", "3", "4", "5"
VC_ANY, VC_ALL = "1", "3"
IMMEDIATELY = "1"
OPEN, CLOSE = "0", "1"
SPECULATION = "1"

# OrderSubmitStatus / OrderStatus.
INSERT_SUBMITTED, CANCEL_SUBMITTED, ACCEPTED, INSERT_REJECTED = "0", "1", "3", "4"
ALL_TRADED, PART_QUEUEING, PART_NOT_QUEUEING = "0", "1", "2"
NO_TRADE_QUEUEING, NO_TRADE_NOT_QUEUEING, CANCELED, UNKNOWN = "3", "4", "5", "a"

TRADE_ID_MAX = 20  # CTP's TThostFtdcTradeIDType holds 20 characters

#: IB order states that can still be cancelled (ib-insync's ActiveStates plus Inactive).
CANCELLABLE = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted",
                         "Inactive"})
DONE = frozenset({"Filled", "Cancelled", "ApiCancelled"})


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """An IB order, in ib-insync's Order field names."""

    action: str
    totalQuantity: float  # IB's field names: the spec splats into Order
    orderType: str
    lmtPrice: float | None = None
    tif: str = "DAY"
    goodTillDate: str = ""
    orderRef: str = ""
    account: str = ""

    def kwargs(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if out["lmtPrice"] is None:
            del out["lmtPrice"]
        return out


def _bad(field: str, why: str) -> CtpError:
    return CtpError(errors.BAD_ORDER_FIELD,
                    f"{errors.message(errors.BAD_ORDER_FIELD)}: {field} {why}", detail=field)


def to_order(req: dict, account: str) -> OrderSpec:
    """The IB order for a ReqOrderInsert body; CtpError 15 naming the field if it has none.

    Limit (OrderPriceType '2') and market ('1') orders; TimeCondition GFD -> DAY,
    IOC -> IOC (FOK with VolumeCondition '3'), GTC -> GTC, GTD -> GTD on GTDDate.
    """
    direction = req.get("Direction", "")
    if direction not in (BUY, SELL):
        raise _bad("Direction", "must be '0' (buy) or '1' (sell)")
    volume = req.get("VolumeTotalOriginal", 0)
    if not isinstance(volume, int) or isinstance(volume, bool) or volume <= 0:
        raise _bad("VolumeTotalOriginal", "must be a positive whole number")
    price_type = req.get("OrderPriceType", "") or LIMIT
    price = req.get("LimitPrice", 0.0)
    if price_type == LIMIT:
        if not isinstance(price, (int, float)) or not math.isfinite(price) or price <= 0:
            raise _bad("LimitPrice", "must be a positive price for a limit order")
        order_type, lmt = "LMT", float(price)
    elif price_type == ANY_PRICE:
        order_type, lmt = "MKT", None
    else:
        raise _bad("OrderPriceType", "must be '1' (any price) or '2' (limit) for IB")
    if req.get("ContingentCondition", "") not in ("", IMMEDIATELY):
        raise _bad("ContingentCondition", "must be '1' (immediately): IB stop orders "
                   "are not mapped")
    volume_condition = req.get("VolumeCondition", "") or VC_ANY
    if volume_condition not in (VC_ANY, VC_ALL):
        raise _bad("VolumeCondition", "must be '1' (any) or '3' (all)")
    condition = req.get("TimeCondition", "") or GFD
    good_till = ""
    if condition == IOC:
        tif = "FOK" if volume_condition == VC_ALL else "IOC"
    elif volume_condition == VC_ALL:
        raise _bad("VolumeCondition", "'3' (all) needs TimeCondition '1' (IOC)")
    elif condition in (GFD, GFS):
        tif = "DAY"
    elif condition == GTC:
        tif = "GTC"
    elif condition == GTD:
        date = req.get("GTDDate", "")
        if not (len(date) == 8 and date.isdigit()):
            raise _bad("GTDDate", "must be YYYYMMDD with TimeCondition '4' (GTD)")
        tif, good_till = "GTD", f"{date} 23:59:59"
    else:
        raise _bad("TimeCondition", "must be '1' IOC, '3' GFD, '4' GTD or '5' GTC")
    if order_type == "MKT" and tif in ("GTC", "GTD"):
        raise _bad("TimeCondition", "a market order cannot rest (use GFD or IOC)")
    return OrderSpec(action="BUY" if direction == BUY else "SELL",
                     totalQuantity=float(volume), orderType=order_type, lmtPrice=lmt,
                     tif=tif, goodTillDate=good_till,
                     orderRef=str(req.get("OrderRef", "")), account=account)


@dataclass(slots=True)
class OrderOrigin:
    """The CTP side of an order: its InputOrder fields and who sent it."""

    input: dict  # ReqOrderInsert body, with InstrumentID/ExchangeID/OrderRef filled in
    front_id: int = 0
    session_id: int = 0
    insert_date: str = ""
    insert_time: str = ""


def origin_from_ib(contract_ids: tuple[str, str], order: Any, when: datetime) -> OrderOrigin:
    """An origin for an order the bridge did not place (TWS, another client, a restart)."""
    instrument_id, exchange_id = contract_ids
    limit = order.orderType in ("LMT", "STP LMT")
    price = order.lmtPrice if limit and _finite(order.lmtPrice) else 0.0
    tif = {"IOC": IOC, "FOK": IOC, "GTC": GTC, "GTD": GTD}.get(order.tif, GFD)
    return OrderOrigin(
        input={
            "InstrumentID": instrument_id, "ExchangeID": exchange_id,
            "OrderRef": order.orderRef, "Direction": BUY if order.action == "BUY" else SELL,
            "OrderPriceType": LIMIT if limit else ANY_PRICE, "LimitPrice": float(price),
            "VolumeTotalOriginal": int(order.totalQuantity), "TimeCondition": tif,
            "VolumeCondition": VC_ALL if order.tif == "FOK" else VC_ANY,
            "CombOffsetFlag": OPEN if order.action == "BUY" else CLOSE,
            "CombHedgeFlag": SPECULATION,
        },
        front_id=int(getattr(order, "clientId", 0) or 0),
        insert_date=when.strftime("%Y%m%d"), insert_time=when.strftime("%H:%M:%S"))


@dataclass(slots=True)
class IbOrderState:
    """What IB says about an order right now."""

    order_id: int
    perm_id: int
    status: str  # IB status: PendingSubmit, Submitted, Filled, Cancelled, ...
    filled: float = 0.0
    rejected: bool = False  # ended by an IB error before it ever worked
    message: str = ""  # IB's text for the last change (an error, a warning)


def ctp_status(state: IbOrderState) -> tuple[str, str]:
    """(OrderSubmitStatus, OrderStatus) for an IB order state."""
    traded = state.filled > 0
    status = state.status
    if state.rejected:
        return INSERT_REJECTED, CANCELED
    if status in ("PendingSubmit", "ApiPending", ""):
        return INSERT_SUBMITTED, UNKNOWN
    if status in ("PreSubmitted", "Submitted"):
        return ACCEPTED, PART_QUEUEING if traded else NO_TRADE_QUEUEING
    if status == "PendingCancel":
        return CANCEL_SUBMITTED, PART_QUEUEING if traded else NO_TRADE_QUEUEING
    if status == "Filled":
        return ACCEPTED, ALL_TRADED
    if status in ("Cancelled", "ApiCancelled"):
        return ACCEPTED, CANCELED
    if status == "Inactive":  # accepted but not working (held, outside hours, ...)
        return ACCEPTED, PART_NOT_QUEUEING if traded else NO_TRADE_NOT_QUEUEING
    return ACCEPTED, UNKNOWN


def order_sys_id(state: IbOrderState) -> str:
    """OrderSysID: IB's permId; the orderId once working if TWS gave no permId."""
    if state.perm_id:
        return str(state.perm_id)
    if state.status in ("PendingSubmit", "ApiPending", "") or state.rejected:
        return ""
    return str(state.order_id)


def order_to_ctp(origin: OrderOrigin, state: IbOrderState, *, broker_id: str, account: str,
                 trading_day: str, now: datetime, currency: str = "") -> dict:
    """A CThostFtdcOrderField dict (RtnOrder / RspQryOrder row)."""
    req = origin.input
    submit_status, order_status = ctp_status(state)
    total = int(req.get("VolumeTotalOriginal", 0))
    traded = min(int(state.filled), total) if total else int(state.filled)
    values = {
        "BrokerID": broker_id, "InvestorID": account, "AccountID": account,
        "InstrumentID": req.get("InstrumentID", ""), "ExchangeID": req.get("ExchangeID", ""),
        "OrderRef": req.get("OrderRef", ""), "UserID": req.get("UserID", ""),
        "OrderPriceType": req.get("OrderPriceType", LIMIT),
        "Direction": req.get("Direction", ""),
        "CombOffsetFlag": req.get("CombOffsetFlag", "") or OPEN,
        "CombHedgeFlag": req.get("CombHedgeFlag", "") or SPECULATION,
        "LimitPrice": float(req.get("LimitPrice", 0.0) or 0.0),
        "VolumeTotalOriginal": total,
        "TimeCondition": req.get("TimeCondition", "") or GFD,
        "GTDDate": req.get("GTDDate", ""),
        "VolumeCondition": req.get("VolumeCondition", "") or VC_ANY,
        "MinVolume": int(req.get("MinVolume", 0) or 1),
        "ContingentCondition": IMMEDIATELY, "ForceCloseReason": "0",
        "RequestID": int(req.get("RequestID", 0) or 0),
        "OrderLocalID": str(state.order_id) if state.order_id else "",
        "OrderSysID": order_sys_id(state),
        "OrderSubmitStatus": submit_status, "OrderStatus": order_status,
        "OrderSource": "0", "OrderType": "0",
        "VolumeTraded": traded, "VolumeTotal": max(total - traded, 0),
        "InsertDate": origin.insert_date, "InsertTime": origin.insert_time,
        "UpdateTime": now.strftime("%H:%M:%S"),
        "CancelTime": now.strftime("%H:%M:%S") if order_status == CANCELED else "",
        "FrontID": origin.front_id, "SessionID": origin.session_id,
        "TradingDay": trading_day, "CurrencyID": currency,
        "StatusMsg": state.message or state.status,
    }
    return catalog.filled("Order", values)


def trade_id(exec_id: str) -> str:
    """CTP's TradeID (20 characters at most) for an IB execId.

    IB's execIds look like ``0000e0d5.6576c3f9.01.01``: without the dots they fit. A
    longer one becomes a stable 20-character digest of it.
    """
    compact = exec_id.replace(".", "")
    if len(compact) <= TRADE_ID_MAX:
        return compact
    return hashlib.blake2b(exec_id.encode(), digest_size=TRADE_ID_MAX // 2).hexdigest()


def fill_to_ctp(origin: OrderOrigin | None, fill: Any, ids: tuple[str, str], *,
                broker_id: str, trading_day: str, local_time: datetime) -> dict:
    """A CThostFtdcTradeField dict for an IB execution (RtnTrade / RspQryTrade row).

    Besides the CTP fields it carries ``Commission`` and ``CommissionCurrency`` from IB's
    commission report once that has arrived (0 and "" before).
    """
    ex = fill.execution
    buy = ex.side in ("BOT", "BUY")
    offset = (origin.input.get("CombOffsetFlag", "") if origin else "") or (
        OPEN if buy else CLOSE)
    trade = catalog.filled("Trade", {
        "BrokerID": broker_id, "InvestorID": ex.acctNumber,
        "InstrumentID": ids[0], "ExchangeID": ids[1],
        "OrderRef": origin.input.get("OrderRef", "") if origin else ex.orderRef,
        "UserID": origin.input.get("UserID", "") if origin else "",
        "TradeID": trade_id(ex.execId), "Direction": BUY if buy else SELL,
        "OrderSysID": str(ex.permId) if ex.permId else str(ex.orderId),
        "OrderLocalID": str(ex.orderId), "OffsetFlag": offset[:1],
        "HedgeFlag": SPECULATION, "Price": float(ex.price), "Volume": int(ex.shares),
        "TradeDate": local_time.strftime("%Y%m%d"), "TradeTime": local_time.strftime("%H:%M:%S"),
        "TradeType": "0", "TradingDay": trading_day,
        "ExchangeInstID": fill.contract.localSymbol or ids[0],
    })
    report = fill.commissionReport
    known = bool(report.execId)
    trade["Commission"] = float(report.commission) if known else 0.0
    trade["CommissionCurrency"] = report.currency if known else ""
    return trade


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 1e300
