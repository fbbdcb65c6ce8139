"""Server messages as field lists, laid out for server version 176.

Each function returns the fields of one message (message id first), exactly the fields
an EDecoder reads at that version; :func:`~wsbridge.simulators.tws.protocol.frame` turns
them into bytes. None is an unset value (sent empty).
"""

from __future__ import annotations

from typing import Any

from wsbridge.simulators.tws.contracts import ContractDef
from wsbridge.simulators.tws.protocol import Out
from wsbridge.simulators.tws.records import SimExecution, SimOrder

Msg = list[Any]

# Tick types (https://interactivebrokers.github.io/tws-api/tick_types.html).
BID_SIZE, BID, ASK, ASK_SIZE, LAST, LAST_SIZE = 0, 1, 2, 3, 4, 5
HIGH, LOW, VOLUME, CLOSE, OPEN = 6, 7, 8, 9, 14


def _contract11(c: ContractDef) -> Msg:
    """conId .. tradingClass without primaryExchange, as order/position messages carry."""
    return [c.con_id, c.symbol, c.sec_type, c.last_trade, 0.0, "", c.multiplier,
            c.exchange, c.currency, c.local_symbol, c.trading_class]


def error(req_id: int, code: int, text: str) -> Msg:
    return [Out.ERR_MSG, 2, req_id, code, text, ""]


def next_valid_id(order_id: int) -> Msg:
    return [Out.NEXT_VALID_ID, 1, order_id]


def managed_accounts(accounts: list[str]) -> Msg:
    return [Out.MANAGED_ACCTS, 1, ",".join(accounts)]


def current_time(epoch: int) -> Msg:
    return [Out.CURRENT_TIME, 1, epoch]


def contract_details(req_id: int, c: ContractDef, exchange: str = "") -> Msg:
    """``exchange``: the routing the request asked for (default: the contract's own)."""
    return [
        Out.CONTRACT_DATA, req_id, c.symbol, c.sec_type, c.last_trade, 0.0, "",
        exchange or c.exchange,
        c.currency, c.local_symbol, c.trading_class, c.trading_class, c.con_id, c.min_tick,
        c.multiplier, "LMT,MKT", ",".join(c.valid_exchanges), 1, 0,
        c.long_name.encode("unicode_escape").decode("ascii"),  # TWS escapes non-ASCII
        c.primary_exchange, c.last_trade[:6], "", "", "", c.time_zone, "", "", "", None,
        0,  # secIdList
        1, "", "", "", c.last_trade, "COMMON" if c.sec_type == "STK" else "",
        c.lot, c.lot, c.lot,  # minSize, sizeIncrement, suggestedSizeIncrement
    ]


def contract_details_end(req_id: int) -> Msg:
    return [Out.CONTRACT_DATA_END, 1, req_id]


def tick_price(req_id: int, tick_type: int, price: float, size: float | None = None) -> Msg:
    return [Out.TICK_PRICE, 6, req_id, tick_type, price, size, 0]


def tick_size(req_id: int, tick_type: int, size: float) -> Msg:
    return [Out.TICK_SIZE, 6, req_id, tick_type, size]


def tick_req_params(req_id: int, min_tick: float) -> Msg:
    return [Out.TICK_REQ_PARAMS, req_id, min_tick, "", 3]


def market_data_type(req_id: int, data_type: int) -> Msg:
    return [Out.MARKET_DATA_TYPE, 1, req_id, data_type]


def tick_snapshot_end(req_id: int) -> Msg:
    return [Out.TICK_SNAPSHOT_END, 1, req_id]


def order_status(o: SimOrder) -> Msg:
    return [Out.ORDER_STATUS, o.order_id, o.status, o.filled, o.remaining,
            o.avg_fill_price, o.perm_id, o.parent_id, o.last_fill_price, o.client_id, "",
            0.0]


def _order_terms(o: SimOrder) -> Msg:
    return [o.action, o.quantity, o.order_type, o.limit_price, None, o.tif, "", o.account,
            "", 0, o.order_ref]


def open_order(o: SimOrder) -> Msg:
    return [
        Out.OPEN_ORDER, o.order_id, *_contract11(o.contract), *_order_terms(o),
        o.client_id, o.perm_id, o.outside_rth, False, 0.0, "",
        "",  # deprecated sharesAllocation
        "", "", "", "", "", o.good_till_date, "", None, "", 0, "", "",
        None, None, None, None, None, None,  # auctionStrategy .. stockRangeUpper
        0, False, False, False, None, 0, False, False, None,  # displaySize .. nbboPriceCap
        o.parent_id, 0, None, None, "", None,  # parentId .. deltaNeutralAuxPrice
        False, None, None, None, None, None, "",  # continuousUpdate .. comboLegsDescrip
        0, 0, 0,  # combo legs, order combo legs, smart combo routing params
        None, None, None,  # scale init/subs level size, price increment
        "",  # hedgeType
        False, "", "", False, False,  # optOutSmartRouting .. delta-neutral contract flag
        "",  # algoStrategy
        False, False, o.status,  # solicited, whatIf, order state
        "", "", "", "", "", "", "", "", "", None, None, None, "", "",  # what-if values
        False, False,  # randomizeSize, randomizePrice
        0,  # conditions
        "", None, None, None, None, None, None, 0, "", "", "", None,  # adjusted .. cashQty
        False, False, False, None,  # dontUseAutoPriceForHedge .. usePriceMgmtAlgo
        None, False, False,  # duration, postToAts, autoCancelParent
        None, None, None, None, None,  # minTradeQty .. midOffsetAtHalf
    ]


def open_order_end() -> Msg:
    return [Out.OPEN_ORDER_END, 1]


def completed_order(o: SimOrder) -> Msg:
    return [
        Out.COMPLETED_ORDER, *_contract11(o.contract), *_order_terms(o),
        o.perm_id, o.outside_rth, False, 0.0, "",
        "", "", "", "", "", o.good_till_date, "", None, "", 0, "", "",
        None, None, None, None, None,  # startingPrice .. stockRangeUpper
        0, False, False, None, 0, 0, None, None, "", None,  # displaySize .. dnAuxPrice
        False, None, None, None, "",  # continuousUpdate .. comboLegsDescrip
        0, 0, 0, None, None, None,  # legs, order legs, params, scale sizes, increment
        "",  # hedgeType
        "", "", False, False,  # clearingAccount, clearingIntent, notHeld, dnc flag
        "",  # algoStrategy
        False, o.status, False, False,  # solicited, status, randomize size / price
        0,  # conditions
        None, None, None, False, False, "", o.filled, 0, False, "", False, False, 0,
        o.completed_time, o.status,
        None, None, None, None, None,  # minTradeQty .. midOffsetAtHalf
    ]


def completed_orders_end() -> Msg:
    return [Out.COMPLETED_ORDERS_END]


def exec_details(req_id: int, e: SimExecution) -> Msg:
    o = e.order
    return [
        Out.EXECUTION_DATA, req_id, o.order_id, *_contract11(o.contract),
        e.exec_id, e.time, o.account, o.contract.primary_exchange or o.contract.exchange,
        e.side, e.shares, e.price, o.perm_id, o.client_id, 0, e.cum_qty, e.avg_price,
        o.order_ref, "", None, "", 0,
    ]


def exec_details_end(req_id: int) -> Msg:
    return [Out.EXECUTION_DATA_END, 1, req_id]


def commission_report(e: SimExecution) -> Msg:
    return [Out.COMMISSION_REPORT, 1, e.exec_id, e.commission, e.order.contract.currency,
            e.realized_pnl, None, None]


def position(account: str, c: ContractDef, size: float, avg_cost: float) -> Msg:
    return [Out.POSITION_DATA, 3, account, c.con_id, c.symbol, c.sec_type, c.last_trade, 0.0,
            "", c.multiplier, c.primary_exchange, c.currency, c.local_symbol,
            c.trading_class, size, avg_cost]


def position_end() -> Msg:
    return [Out.POSITION_END, 1]


def account_value(key: str, value: Any, currency: str, account: str) -> Msg:
    return [Out.ACCT_VALUE, 2, key, value, currency, account]


def portfolio_value(c: ContractDef, size: float, market_price: float, market_value: float,
                    avg_cost: float, unrealized: float, realized: float, account: str) -> Msg:
    return [Out.PORTFOLIO_VALUE, 8, c.con_id, c.symbol, c.sec_type, c.last_trade, 0.0, "",
            c.multiplier, c.primary_exchange, c.currency, c.local_symbol, c.trading_class,
            size, market_price, market_value, avg_cost, unrealized, realized, account]


def account_time(hhmm: str) -> Msg:
    return [Out.ACCT_UPDATE_TIME, 1, hhmm]


def account_download_end(account: str) -> Msg:
    return [Out.ACCT_DOWNLOAD_END, 1, account]


def account_summary(req_id: int, account: str, tag: str, value: Any, currency: str) -> Msg:
    return [Out.ACCOUNT_SUMMARY, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Msg:
    return [Out.ACCOUNT_SUMMARY_END, 1, req_id]


def account_update_multi(req_id: int, account: str, key: str, value: Any,
                         currency: str) -> Msg:
    return [Out.ACCOUNT_UPDATE_MULTI, 1, req_id, account, "", key, value, currency]


def account_update_multi_end(req_id: int) -> Msg:
    return [Out.ACCOUNT_UPDATE_MULTI_END, 1, req_id]
