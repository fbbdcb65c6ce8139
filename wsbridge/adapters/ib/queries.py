"""The td queries IB has an equivalent for, answered from ib-insync's synchronised state.

ib-insync keeps orders, fills, positions, the portfolio and account values current from
TWS's streams, so most queries are a translation of what it holds; instruments and depth
snapshots ask TWS. Each handler returns the response rows (CTP struct dicts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from wsbridge.adapters.base import Login, Reply, Request
from wsbridge.adapters.ib.execution import Execution
from wsbridge.adapters.ib.parsing import accounts
from wsbridge.adapters.ib.parsing.contracts import EXCHANGES
from wsbridge.adapters.ib.parsing.market import details_to_instrument
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

Handler = Callable[[Execution, Login, dict], Awaitable[list[dict]]]


def _matches(row: dict, body: dict, keys: tuple[str, ...]) -> bool:
    return all(not body.get(k) or row.get(k) == body[k] for k in keys)


def _today() -> str:
    return datetime.now().strftime("%Y%m%d")


async def orders(ex: Execution, login: Login, body: dict) -> list[dict]:
    ex.connection.require()
    rows = [ex.order_row(tracked) for tracked in ex.tracked_orders()]
    return [r for r in rows if _matches(r, body, ("InstrumentID", "ExchangeID", "OrderSysID"))]


async def trades(ex: Execution, login: Login, body: dict) -> list[dict]:
    ib = ex.connection.require()
    rows = [ex.trade_row(f) for f in ib.fills() if f.execution.acctNumber in ("", ex.account)]
    return [r for r in rows if _matches(r, body, ("InstrumentID", "ExchangeID", "TradeID"))]


async def positions(ex: Execution, login: Login, body: dict) -> list[dict]:
    """Portfolio items (with market price and PnL), else bare positions."""
    ib = ex.connection.require()
    common = {"broker_id": ex.settings.broker_id, "account": ex.account,
              "trading_day": _today()}
    rows: dict[int, dict | None] = {}
    for item in ib.portfolio():
        if item.account == ex.account:
            rows[item.contract.conId] = accounts.position_to_ctp(
                ex.provider.ids_of(item.contract), item.position, item.averageCost,
                market_price=item.marketPrice, unrealized=item.unrealizedPNL,
                realized=item.realizedPNL, **common)
    for pos in ib.positions(ex.account):
        if pos.contract.conId not in rows:
            rows[pos.contract.conId] = accounts.position_to_ctp(
                ex.provider.ids_of(pos.contract), pos.position, pos.avgCost, **common)
    return [r for r in rows.values()
            if r is not None and _matches(r, body, ("InstrumentID", "ExchangeID"))]


async def trading_account(ex: Execution, login: Login, body: dict) -> list[dict]:
    ib = ex.connection.require()
    day = _today()
    values = ib.accountValues(ex.account)
    rates = accounts.exchange_rates(values, ex.account)
    commission = sum(f.commissionReport.commission * rates.get(f.commissionReport.currency, 1.0)
                     for f in ib.fills()
                     if f.execution.acctNumber in ("", ex.account)
                     and f.time.astimezone().strftime("%Y%m%d") == day)
    return [accounts.account_to_ctp(values, ex.account, broker_id=ex.settings.broker_id,
                                    trading_day=day, commission=commission)]


async def instruments(ex: Execution, login: Login, body: dict) -> list[dict]:
    """One instrument asked of IB, or (no InstrumentID) those resolved so far."""
    instrument_id = body.get("InstrumentID", "").strip()
    if instrument_id:
        found = [await ex.provider.resolve(instrument_id, body.get("ExchangeID", ""))]
    else:
        ex.connection.require()
        found = ex.provider.known()
    rows = [details_to_instrument(i.details, i.ids) for i in found]
    return [r for r in rows if _matches(r, body, ("ExchangeID",))]


async def depth(ex: Execution, login: Login, body: dict) -> list[dict]:
    instrument_id = body.get("InstrumentID", "").strip()
    if not instrument_id:
        raise CtpError(errors.BAD_PARAMETER, detail="InstrumentID: required for IB")
    return [await ex.market.snapshot(instrument_id, body.get("ExchangeID", ""))]


async def investor(ex: Execution, login: Login, body: dict) -> list[dict]:
    return [catalog.filled("Investor", {
        "InvestorID": ex.account, "BrokerID": ex.settings.broker_id,
        "InvestorName": ex.account, "IsActive": 1})]


async def exchanges(ex: Execution, login: Login, body: dict) -> list[dict]:
    wanted = body.get("ExchangeID", "")
    return [catalog.filled("Exchange", {"ExchangeID": name, "ExchangeName": name,
                                        "ExchangeProperty": "0"})
            for name in EXCHANGES if not wanted or wanted == name]


async def confirm_settlement(ex: Execution, login: Login, body: dict) -> list[dict]:
    now = datetime.now()  # IB has no settlement statement to confirm: acknowledge
    return [catalog.filled("SettlementInfoConfirm", {
        "BrokerID": ex.settings.broker_id, "InvestorID": ex.account,
        "ConfirmDate": now.strftime("%Y%m%d"), "ConfirmTime": now.strftime("%H:%M:%S")})]


QUERIES: dict[str, Handler] = {
    "ReqQryOrder": orders,
    "ReqQryTrade": trades,
    "ReqQryInvestorPosition": positions,
    "ReqQryTradingAccount": trading_account,
    "ReqQryInstrument": instruments,
    "ReqQryDepthMarketData": depth,
    "ReqQryInvestor": investor,
    "ReqQryExchange": exchanges,
    "ReqSettlementInfoConfirm": confirm_settlement,
}


async def query(ex: Execution, login: Login, req: Request) -> Reply:
    return Reply(rows=await QUERIES[req.msg_type](ex, login, req.body))
