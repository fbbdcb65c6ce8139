"""The td queries the exchange answers, one handler per MsgType, filters honoured.

A handler takes the exchange, the session and the request body and returns the response
rows (CTP struct dicts); an empty list is CTP's empty answer. An account only ever sees its
own orders, trades and positions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.exchange import accounts as acc
from wsbridge.simulators.exchange import ctp, reports

if TYPE_CHECKING:
    from wsbridge.simulators.exchange.engine import Exchange, Session

Handler = Callable[["Exchange", "Session", dict], list[dict]]
HANDLERS: dict[str, Handler] = {}

CONTENT_CHUNK = 500  # CTP splits settlement statements into rows of ~500 bytes


def handles(msg_type: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[msg_type] = fn
        return fn

    return register


def _matches(row: dict, body: dict, keys: Iterable[str]) -> bool:
    """Whether ``row`` passes every non-empty filter in ``body`` for ``keys``."""
    return all(not body.get(k) or row.get(k) == body[k] for k in keys)


def _filtered(rows: Iterable[dict], body: dict, keys: Iterable[str]) -> list[dict]:
    keys = tuple(keys)
    return [row for row in rows if _matches(row, body, keys)]


def _instruments(ex: Exchange, body: dict) -> list:
    """Listed instruments passing the InstrumentID / ExchangeID filters."""
    iid = body.get("InstrumentID")
    if iid:
        inst = ex.find(iid)
        found = [inst] if inst is not None else []
    else:
        found = list(ex.instruments.values())
    xid = body.get("ExchangeID")
    return [inst for inst in found if not xid or inst.exchange_id == xid]


# -- reference data ----------------------------------------------------------------------


@handles("ReqQryInstrument")
def _instrument(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = (dict(inst.fields) for inst in _instruments(ex, body))
    return _filtered(rows, body, ("InstrumentID", "ExchangeID", "ProductID", "ExchangeInstID"))


@handles("ReqQryExchange")
def _exchange(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return _filtered(ex.catalog.exchanges(), body, ("ExchangeID",))


@handles("ReqQryProduct")
def _product(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return _filtered(ex.catalog.products(), body, ("ProductID", "ExchangeID", "ProductClass"))


@handles("ReqQryDepthMarketData")
def _depth(ex: Exchange, session: Session, body: dict) -> list[dict]:
    klass = body.get("ProductClass")
    return [
        ex.depth(inst.id) for inst in _instruments(ex, body)
        if not klass or inst.fields["ProductClass"] == klass
    ]


@handles("ReqQryInstrumentMarginRate")
def _margin_rate(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return [
        ctp.filled(
            "InstrumentMarginRate", InstrumentID=inst.id, ExchangeID=inst.exchange_id,
            BrokerID=session.broker_id, InvestorID=session.user_id, InvestorRange="1",
            HedgeFlag=ctp.SPECULATION, LongMarginRatioByMoney=inst.spec.margin,
            ShortMarginRatioByMoney=inst.spec.margin, IsRelative=0,
        )
        for inst in _instruments(ex, body)
    ]


@handles("ReqQryExchangeMarginRate")
def _exchange_margin_rate(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return [
        ctp.filled(
            "ExchangeMarginRate", BrokerID=session.broker_id, InstrumentID=inst.id,
            ExchangeID=inst.exchange_id, HedgeFlag=ctp.SPECULATION,
            LongMarginRatioByMoney=inst.spec.margin, ShortMarginRatioByMoney=inst.spec.margin,
        )
        for inst in _instruments(ex, body)
    ]


@handles("ReqQryInstrumentCommissionRate")
def _commission_rate(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = []
    for inst in _instruments(ex, body):
        s = inst.spec
        rows.append(ctp.filled(
            "InstrumentCommissionRate", InstrumentID=inst.id, ExchangeID=inst.exchange_id,
            BrokerID=session.broker_id, InvestorID=session.user_id, InvestorRange="1",
            OpenRatioByMoney=s.open_ratio_by_money, OpenRatioByVolume=s.open_ratio_by_volume,
            CloseRatioByMoney=s.close_ratio_by_money,
            CloseRatioByVolume=s.close_ratio_by_volume,
            CloseTodayRatioByMoney=s.close_today_ratio_by_money,
            CloseTodayRatioByVolume=s.close_today_ratio_by_volume, BizType="1",
        ))
    return rows


@handles("ReqQryInstrumentOrderCommRate")
def _order_comm_rate(ex: Exchange, session: Session, body: dict) -> list[dict]:
    # The sim charges no per-order (insert / cancel) fees: the real rate is zero.
    return [
        ctp.filled(
            "InstrumentOrderCommRate", InstrumentID=inst.id, ExchangeID=inst.exchange_id,
            BrokerID=session.broker_id, InvestorID=session.user_id, InvestorRange="1",
            HedgeFlag=ctp.SPECULATION,
        )
        for inst in _instruments(ex, body)
    ]


@handles("ReqQryOptionInstrTradeCost")
@handles("ReqQryOptionInstrCommRate")
def _no_options(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return []  # the sim lists no options


# -- the account -------------------------------------------------------------------------


@handles("ReqQryOrder")
def _orders(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = _filtered(
        ex.orders_of(session.account), body, ("InstrumentID", "ExchangeID", "OrderSysID")
    )
    return _in_window(rows, "InsertTime", body.get("InsertTimeStart"), body.get("InsertTimeEnd"))


@handles("ReqQryTrade")
def _trades(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = _filtered(
        ex.trades_of(session.account), body, ("InstrumentID", "ExchangeID", "TradeID")
    )
    return _in_window(rows, "TradeTime", body.get("TradeTimeStart"), body.get("TradeTimeEnd"))


def _in_window(rows: list[dict], key: str, start: str | None, end: str | None) -> list[dict]:
    """Rows whose ``key`` (HH:MM:SS) lies in [start, end]; an empty bound is open."""
    return [r for r in rows if (not start or r[key] >= start) and (not end or r[key] <= end)]


@handles("ReqQryInvestorPosition")
def _positions(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = reports.positions(
        ex.account_of(session), ex.lookup, ex.mark, ex.pre_settlement,
        ex.live_orders(session.account), ex.trading_day,
    )
    return _filtered(rows, body, ("InstrumentID", "ExchangeID"))


@handles("ReqQryInvestorPositionDetail")
def _details(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = reports.details(
        ex.account_of(session), ex.lookup, ex.mark, ex.pre_settlement, ex.trading_day
    )
    return _filtered(rows, body, ("InstrumentID", "ExchangeID"))


@handles("ReqQryTradingAccount")
def _trading_account(ex: Exchange, session: Session, body: dict) -> list[dict]:
    account = ex.account_of(session)
    currency = body.get("CurrencyID") or (
        "CNY" if "CNY" in account.pre_balance else next(iter(account.pre_balance), "CNY")
    )
    if currency not in account.pre_balance:
        return []
    return [reports.trading_account(account, ex.money(account, currency), ex.trading_day)]


@handles("ReqQryInvestor")
def _investor(ex: Exchange, session: Session, body: dict) -> list[dict]:
    account = ex.account_of(session)
    return [ctp.filled(
        "Investor", InvestorID=account.user_id, BrokerID=account.broker_id,
        InvestorGroupID=account.broker_id, InvestorName=account.user_id,
        IdentifiedCardType="1", IsActive=1, OpenDate=account.open_date,
        CommModelID="sim", MarginModelID="sim",
    )]


@handles("ReqQryTradingCode")
def _trading_codes(ex: Exchange, session: Session, body: dict) -> list[dict]:
    rows = [
        ctp.filled(
            "TradingCode", InvestorID=session.user_id, BrokerID=session.broker_id,
            ExchangeID=row["ExchangeID"], ClientID=session.user_id, IsActive=1,
            ClientIDType=ctp.SPECULATION, BizType="1",
        )
        for row in ex.catalog.exchanges()
    ]
    return _filtered(rows, body, ("ExchangeID", "ClientID"))


@handles("ReqQryMaxOrderVolume")
def _max_order_volume(ex: Exchange, session: Session, body: dict) -> list[dict]:
    account = ex.account_of(session)
    inst = ex.find(body.get("InstrumentID", ""))
    if inst is None:
        raise CtpError(errors.INSTRUMENT_NOT_FOUND, detail=body.get("InstrumentID", ""))
    buy = body.get("Direction", ctp.BUY) != ctp.SELL
    offset = body.get("OffsetFlag") or ctp.OPEN
    lot = inst.spec.lot
    if offset == ctp.OPEN:
        if inst.is_stock and not buy:
            most = 0
        else:
            price = ex.mark(inst)
            unit = acc.margin_of(inst, price, 1) + acc.commission_of(inst, "open", price, 1)
            available = ex.money(account, inst.spec.currency).available
            most = max(0, math.floor(available / unit + 1e-9)) if unit > 0 else 0
    else:
        yd, today = ex.closeable(account, inst, buy)
        if offset == ctp.CLOSE_TODAY:
            most = today
        elif offset == ctp.CLOSE_YESTERDAY or inst.split_today:
            most = yd
        else:
            most = yd + today
    row = ctp.blank("QryMaxOrderVolume")
    row.update({k: v for k, v in body.items() if k in row})
    row.update(
        BrokerID=session.broker_id, InvestorID=session.user_id, InstrumentID=inst.id,
        ExchangeID=inst.exchange_id, Direction=ctp.BUY if buy else ctp.SELL,
        OffsetFlag=offset, HedgeFlag=body.get("HedgeFlag") or ctp.SPECULATION,
        MaxVolume=most - most % lot,
    )
    return [row]


# -- settlement, authentication, logout --------------------------------------------------


@handles("ReqSettlementInfoConfirm")
def _confirm(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return [ex.confirm_settlement(session)]


@handles("ReqQrySettlementInfoConfirm")
def _confirmed(ex: Exchange, session: Session, body: dict) -> list[dict]:
    account = ex.account_of(session)
    if not account.confirm_date:
        return []
    return [ctp.filled(
        "SettlementInfoConfirm", BrokerID=account.broker_id, InvestorID=account.user_id,
        ConfirmDate=account.confirm_date, ConfirmTime=account.confirm_time, SettlementID=1,
        AccountID=account.user_id, CurrencyID="CNY",
    )]


@handles("ReqQrySettlementInfo")
def _settlement_info(ex: Exchange, session: Session, body: dict) -> list[dict]:
    account = ex.account_of(session)
    text = statement(ex, session)
    chunks = [text[i:i + CONTENT_CHUNK] for i in range(0, len(text), CONTENT_CHUNK)]
    return [
        ctp.filled(
            "SettlementInfo", TradingDay=body.get("TradingDay") or ex.trading_day,
            SettlementID=1, BrokerID=account.broker_id, InvestorID=account.user_id,
            SequenceNo=n, Content=chunk, AccountID=account.user_id, CurrencyID="CNY",
        )
        for n, chunk in enumerate(chunks, 1)
    ]


def statement(ex: Exchange, session: Session) -> str:
    """A plain-text account statement (the sim's settlement information)."""
    account = ex.account_of(session)
    lines = [
        "wsbridge simulated exchange - account statement",
        f"Trading day: {ex.trading_day}  Broker: {account.broker_id}  "
        f"Investor: {account.user_id}",
        "",
    ]
    for currency in sorted(account.pre_balance):
        m = ex.money(account, currency)
        lines.append(
            f"{currency}: PreBalance {m.pre_balance:.2f}  Balance {m.balance:.2f}  "
            f"Available {m.available:.2f}  Margin {m.curr_margin:.2f}  "
            f"CloseProfit {m.close_profit:.2f}  PositionProfit {m.position_profit:.2f}  "
            f"Commission {m.commission:.2f}"
        )
    rows = _positions(ex, session, {})
    lines.append("")
    lines.append(f"Positions: {len(rows)}")
    for row in rows:
        side = "long" if row["PosiDirection"] == ctp.LONG else "short"
        lines.append(
            f"  {row['InstrumentID']} {side} {row['Position']} "
            f"(today {row['TodayPosition']})  cost {row['PositionCost']:.2f}  "
            f"profit {row['PositionProfit']:.2f}"
        )
    return "\n".join(lines) + "\n"


@handles("ReqAuthenticate")
def _authenticate(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return [ctp.filled(
        "RspAuthenticate", BrokerID=session.broker_id, UserID=session.user_id,
        UserProductInfo=body.get("UserProductInfo", ""), AppID=body.get("AppID", ""),
        AppType="1",
    )]


@handles("ReqUserLogout")
def _logout(ex: Exchange, session: Session, body: dict) -> list[dict]:
    return [ctp.filled("UserLogout", BrokerID=session.broker_id, UserID=session.user_id)]
