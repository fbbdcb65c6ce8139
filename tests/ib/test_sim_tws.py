"""ib-insync itself against a sim-tws process, without wsbridge in between."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable

import pytest
from ib_insync import IB, Contract, LimitOrder, MarketOrder, RequestError, Stock

from tests.ib.simtws import ACCOUNT, SimTws

WAIT = 20.0  # generous bound for anything to arrive; never a timing assertion
_client_ids = itertools.count(10)
AAPL_FEE = 0.005  # the sim exchange's default AAPL commission per share


@pytest.fixture(scope="module")
def tws(tmp_path_factory):
    with SimTws(tmp_path_factory.mktemp("sim-tws")) as sim:
        yield sim


async def until(check: Callable[[], object], timeout: float = WAIT) -> object:
    """Wait for ``check()`` to be truthy; fail the test (not hang) if it never is."""
    async with asyncio.timeout(timeout):
        while not (result := check()):
            await asyncio.sleep(0.05)
    return result


@pytest.fixture
async def ib(tws):
    client = IB()
    client.RaiseRequestErrors = True
    errors: list[tuple[int, int, str]] = []
    client.errorEvent += lambda req_id, code, text, contract: errors.append(
        (req_id, code, text))
    client.seen_errors = errors
    await client.connectAsync("127.0.0.1", tws.port, clientId=next(_client_ids), timeout=WAIT)
    yield client
    client.disconnect()


async def quote(ib: IB, contract) -> object:
    ticker = ib.reqMktData(contract)
    await until(lambda: all(math.isfinite(v) and v > 0
                            for v in (ticker.bid, ticker.ask, ticker.last)))
    return ticker


async def test_connect_and_synchronise(ib):
    assert ib.isConnected()
    assert ib.client.serverVersion() == 176
    assert ib.managedAccounts() == [ACCOUNT]
    assert ib.client.getReqId() >= 1
    assert {code for _, code, _ in ib.seen_errors} >= {2104, 2106, 2158}
    tags = {v.tag for v in ib.accountValues()}
    assert {"NetLiquidation", "AvailableFunds", "RealizedPnL", "ExchangeRate"} <= tags


async def test_a_client_id_in_use_is_refused(tws, ib):
    other = IB()
    seen = []
    other.errorEvent += lambda req_id, code, text, contract: seen.append(code)
    with pytest.raises((asyncio.TimeoutError, ConnectionError)):
        await other.connectAsync("127.0.0.1", tws.port, clientId=ib.client.clientId,
                                 timeout=2)
    assert 326 in seen
    assert ib.isConnected()  # the first client is unaffected


async def test_contract_details(ib):
    (aapl,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    assert aapl.conId and aapl.primaryExchange == "NASDAQ" and aapl.exchange == "SMART"
    (details,) = await ib.reqContractDetailsAsync(Stock("700", "SEHK", "HKD"))
    assert details.contract.symbol == "700" and details.longName == "腾讯控股"
    assert details.minSize == 100 and details.minTick == 0.2
    with pytest.raises(RequestError) as info:
        await ib.reqContractDetailsAsync(Stock("NOPE", "SMART", "USD"))
    assert info.value.code == 200


async def test_market_data_ticks_arrive(ib):
    ticker = await quote(ib, Stock("AAPL", "SMART", "USD"))
    assert ticker.bid < ticker.ask
    assert ticker.volume > 0 and ticker.high >= ticker.low > 0 and ticker.close > 0
    updates = []
    ticker.updateEvent += updates.append
    await until(lambda: len(updates) >= 2)  # it keeps streaming
    ib.cancelMktData(ticker.contract)


async def test_delayed_market_data(ib):
    ib.reqMarketDataType(3)
    ticker = await quote(ib, Stock("MSFT", "SMART", "USD"))
    assert ticker.marketDataType == 3


async def test_limit_order_fills_with_executions_and_commission(ib):
    (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ticker = await quote(ib, contract)
    before = sum(p.position for p in ib.positions() if p.contract.conId == contract.conId)
    trade = ib.placeOrder(contract, LimitOrder("BUY", 10, round(ticker.ask * 1.01, 2)))
    await until(lambda: trade.orderStatus.status == "Filled")
    assert trade.orderStatus.filled == 10 and trade.orderStatus.permId
    await until(lambda: trade.fills and all(f.commissionReport.execId for f in trade.fills))
    assert sum(f.execution.shares for f in trade.fills) == 10
    assert sum(f.commissionReport.commission for f in trade.fills) == pytest.approx(
        10 * AAPL_FEE)
    assert all(f.execution.acctNumber == ACCOUNT for f in trade.fills)
    await until(lambda: sum(p.position for p in ib.positions()
                            if p.contract.conId == contract.conId) == before + 10)
    await until(lambda: any(item.contract.conId == contract.conId
                            for item in ib.portfolio()))


async def test_market_order_fills(ib):
    contract = Stock("MSFT", "SMART", "USD")
    trade = ib.placeOrder(contract, MarketOrder("BUY", 3))
    await until(lambda: trade.orderStatus.status == "Filled")
    assert trade.orderStatus.avgFillPrice > 0


async def test_futures_open_and_close_today(ib):
    listed = await ib.reqContractDetailsAsync(Contract(secType="FUT", symbol="rb",
                                                       exchange="SHFE"))
    assert listed and all(d.contract.currency == "CNY" and d.contract.multiplier == "10"
                          for d in listed)
    contract = listed[0].contract
    ticker = await quote(ib, contract)
    bought = ib.placeOrder(contract, LimitOrder("BUY", 2, ticker.ask + 5))
    await until(lambda: bought.orderStatus.status == "Filled")
    await until(lambda: any(p.contract.conId == contract.conId and p.position == 2
                            for p in ib.positions()))
    sold = ib.placeOrder(contract, LimitOrder("SELL", 2, ticker.bid - 5))  # closes today's
    await until(lambda: sold.orderStatus.status == "Filled")
    await until(lambda: not any(p.contract.conId == contract.conId for p in ib.positions()))
    flip = ib.placeOrder(contract, LimitOrder("SELL", 1, ticker.bid - 5))  # opens a short
    await until(lambda: flip.orderStatus.status == "Filled")
    await until(lambda: any(p.contract.conId == contract.conId and p.position == -1
                            for p in ib.positions()))


async def test_resting_order_is_cancelled(ib):
    (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ticker = await quote(ib, contract)
    trade = ib.placeOrder(contract, LimitOrder("BUY", 5, round(ticker.bid * 0.9, 2)))
    await until(lambda: trade.orderStatus.status == "Submitted")
    assert trade in ib.openTrades()
    ib.cancelOrder(trade.order)
    await until(lambda: trade.orderStatus.status == "Cancelled")
    assert (trade.order.orderId, 202) in {(r, c) for r, c, _ in ib.seen_errors}
    ib.cancelOrder(trade.order)  # a second cancel: TWS says it cannot
    await until(lambda: (trade.order.orderId, 10148) in {(r, c) for r, c, _ in
                                                          ib.seen_errors})


async def test_rejections_come_as_ib_errors(ib):
    unknown = ib.placeOrder(Stock("NOPE", "SMART", "USD"), LimitOrder("BUY", 1, 10.0))
    await until(lambda: unknown.orderStatus.status == "Cancelled")
    (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ticker = await quote(ib, contract)
    too_big = ib.placeOrder(contract, LimitOrder("BUY", 90_000, round(ticker.ask, 2)))
    short = ib.placeOrder(contract, LimitOrder("SELL", 50_000, round(ticker.bid, 2)))
    off_tick = ib.placeOrder(contract, LimitOrder("BUY", 1, round(ticker.bid, 2) + 0.001))
    gtc = ib.placeOrder(contract, LimitOrder("BUY", 1, round(ticker.bid, 2), tif="GTC"))
    await until(lambda: all(t.orderStatus.status == "Cancelled"
                            for t in (too_big, short, gtc)))
    # ib-insync counts 110 as a warning and leaves the trade pending: the error tells.
    await until(lambda: off_tick.order.orderId in {r for r, _, _ in ib.seen_errors})
    codes = {r: (c, text) for r, c, text in ib.seen_errors}
    assert codes[unknown.order.orderId][0] == 200
    assert codes[too_big.order.orderId][0] == 201
    assert "EQUITY WITH LOAN" in codes[too_big.order.orderId][1]
    assert "position" in codes[short.order.orderId][1]
    assert codes[off_tick.order.orderId][0] == 110
    assert "GTC" in codes[gtc.order.orderId][1]


async def test_account_values_add_up(ib):
    # Run after some fills: base values must agree with the commissions charged.
    await until(lambda: ib.fills())
    values = {(v.tag, v.currency): float(v.value) for v in ib.accountValues()
              if v.currency and v.tag not in ("AccountCode", "AccountType", "Currency",
                                              "AccountReady")}
    rates = {c: r for (t, c), r in values.items() if t == "ExchangeRate"}
    commission = sum(f.commissionReport.commission * rates[f.commissionReport.currency]
                     for f in ib.fills())
    base = ("USD")
    net = values[("NetLiquidation", base)]
    assert net == pytest.approx(values[("PreviousDayEquityWithLoanValue", base)]
                                + values[("RealizedPnL", "BASE")]
                                + values[("UnrealizedPnL", "BASE")] - commission, abs=1e-4)
    assert values[("AvailableFunds", base)] <= net
    summary = {v.tag: v for v in await ib.accountSummaryAsync()}
    assert float(summary["NetLiquidation"].value) == pytest.approx(net)


async def test_a_new_connection_sees_todays_orders_and_fills(tws, ib):
    (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ticker = await quote(ib, contract)
    trade = ib.placeOrder(contract, LimitOrder("BUY", 2, round(ticker.ask * 1.01, 2)))
    await until(lambda: trade.orderStatus.status == "Filled" and trade.fills
                and trade.fills[-1].commissionReport.execId)
    later = IB()
    await later.connectAsync("127.0.0.1", tws.port, clientId=next(_client_ids), timeout=WAIT)
    try:
        exec_ids = {f.execution.execId: f for f in later.fills()}
        for fill in trade.fills:
            assert exec_ids[fill.execution.execId].commissionReport.commission == \
                pytest.approx(fill.commissionReport.commission)
        done = {t.order.permId: t for t in later.trades()}
        assert done[trade.order.permId].orderStatus.status == "Filled"
    finally:
        later.disconnect()


async def test_orders_survive_a_restart(tmp_path):
    with SimTws(tmp_path) as sim:
        ib = IB()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=3, timeout=WAIT)
        (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        ticker = await quote(ib, contract)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 7, round(ticker.bid * 0.9, 2)))
        await until(lambda: trade.orderStatus.status == "Submitted")
        lost = asyncio.Event()
        ib.disconnectedEvent += lost.set
        sim.kill()
        async with asyncio.timeout(WAIT):
            await lost.wait()
        sim.restart()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=3, timeout=WAIT)
        try:
            (again,) = ib.openTrades()
            assert (again.order.orderId, again.order.permId) == (
                trade.order.orderId, trade.order.permId)
            assert again.order.totalQuantity == 7 and again.orderStatus.status == "Submitted"
            assert ib.client.getReqId() > trade.order.orderId  # order ids never repeat
            ib.cancelOrder(again.order)
            await until(lambda: again.orderStatus.status == "Cancelled")
        finally:
            ib.disconnect()
