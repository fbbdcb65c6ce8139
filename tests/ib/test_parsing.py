"""The IB back end's pure translations, each on its own, with ib-insync's real objects."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from ib_insync import (
    AccountValue,
    CommissionReport,
    Contract,
    ContractDetails,
    Execution,
    Fill,
    LimitOrder,
    MarketOrder,
    Stock,
    Ticker,
)

from wsbridge.adapters.ib import config
from wsbridge.adapters.ib.parsing import accounts, contracts, market, orders
from wsbridge.adapters.ib.parsing import errors as ib_errors
from wsbridge.config import ConfigError
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

NOW = datetime(2025, 3, 4, 10, 30, 15, 250_000)

# --- contracts ----------------------------------------------------------------------------


@pytest.mark.parametrize(("instrument", "exchange", "want"), [
    ("AAPL", "NASDAQ", ("AAPL", "SMART", "NASDAQ", "USD")),
    ("aapl", "", ("AAPL", "SMART", "", "USD")),
    ("IBM", "NYSE", ("IBM", "SMART", "NYSE", "USD")),
    ("00700", "HKEX", ("700", "SEHK", "SEHK", "HKD")),
    ("09988", "", ("9988", "SEHK", "SEHK", "HKD")),
    ("600000", "", ("600000", "SEHKNTL", "SEHKNTL", "CNH")),
    ("000001", "SZSE", ("000001", "SEHKSZSE", "SEHKSZSE", "CNH")),
])
def test_instrument_to_contract(instrument, exchange, want):
    spec = contracts.to_contract(instrument, exchange)
    assert (spec.symbol, spec.exchange, spec.primaryExchange, spec.currency) == want
    assert spec.secType == "STK"
    assert Contract(**spec.kwargs()).symbol == want[0]  # splats into ib-insync's Contract


@pytest.mark.parametrize(("instrument", "exchange"), [("", ""), ("rb2601", "SHFE"),
                                                      ("ABC", "HKEX")])
def test_unmappable_instruments_are_error_16(instrument, exchange):
    with pytest.raises(CtpError) as info:
        contracts.to_contract(instrument, exchange)
    assert info.value.error_id == errors.INSTRUMENT_NOT_FOUND


def test_configured_contracts_map_both_ways():
    table = contracts.ContractTable.from_config({
        "rb2601": {"symbol": "rb", "sec_type": "FUT", "exchange": "SHFE", "currency": "CNY",
                   "last_trade": "202601", "multiplier": 10},
    })
    spec = contracts.to_contract("rb2601", "SHFE", table)
    assert (spec.secType, spec.exchange, spec.multiplier) == ("FUT", "SHFE", "10")
    ib = Contract(secType="FUT", symbol="rb", exchange="SHFE", currency="CNY",
                  lastTradeDateOrContractMonth="20260115", localSymbol="rb2601")
    assert contracts.instrument_of(ib, table) == ("rb2601", "SHFE")


@pytest.mark.parametrize(("contract", "want"), [
    (Stock("AAPL", "SMART", "USD", primaryExchange="NASDAQ"), ("AAPL", "NASDAQ")),
    (Stock("AAPL", "ISLAND", "USD"), ("AAPL", "NASDAQ")),
    (Stock("700", "SEHK", "HKD"), ("00700", "HKEX")),
    (Stock("600000", "SEHKNTL", "CNH"), ("600000", "SSE")),
    (Stock("SPY", "SMART", "USD"), ("SPY", "US")),
    (Contract(secType="FUT", symbol="ES", exchange="CME", localSymbol="ESM5"), ("ESM5", "CME")),
])
def test_contract_to_instrument(contract, want):
    assert contracts.instrument_of(contract) == want


def test_round_trip_for_every_stock_exchange():
    for exchange_id, venue in contracts.EXCHANGES.items():
        instrument = "00005" if venue.exchange == "SEHK" else "600000" if venue.currency \
            == "CNH" else "XYZ"
        spec = contracts.to_contract(instrument, exchange_id)
        back = contracts.instrument_of(Contract(**spec.kwargs()))
        assert back[0] == instrument
        assert back[1] == exchange_id or exchange_id in ("US", "SZSE")


# --- orders -------------------------------------------------------------------------------


def _insert(**values) -> dict:
    base = {"InstrumentID": "AAPL", "Direction": "0", "CombOffsetFlag": "0",
            "OrderPriceType": "2", "LimitPrice": 101.5, "VolumeTotalOriginal": 10,
            "TimeCondition": "3", "VolumeCondition": "1", "OrderRef": "42"}
    return {**base, **values}


@pytest.mark.parametrize(("values", "want"), [
    ({}, ("BUY", "LMT", 101.5, "DAY")),
    ({"Direction": "1"}, ("SELL", "LMT", 101.5, "DAY")),
    ({"OrderPriceType": "1", "TimeCondition": "1"}, ("BUY", "MKT", None, "IOC")),
    ({"TimeCondition": "1", "VolumeCondition": "3"}, ("BUY", "LMT", 101.5, "FOK")),
    ({"TimeCondition": "5"}, ("BUY", "LMT", 101.5, "GTC")),
    ({"TimeCondition": "", "OrderPriceType": ""}, ("BUY", "LMT", 101.5, "DAY")),
])
def test_insert_to_ib_order(values, want):
    spec = orders.to_order(_insert(**values), "DU1")
    assert (spec.action, spec.orderType, spec.lmtPrice, spec.tif) == want
    assert (spec.totalQuantity, spec.orderRef, spec.account) == (10.0, "42", "DU1")
    order = (LimitOrder if spec.lmtPrice else MarketOrder)(
        spec.action, spec.totalQuantity, *([spec.lmtPrice] if spec.lmtPrice else []))
    assert order.totalQuantity == 10


def test_gtd_order_carries_its_date():
    spec = orders.to_order(_insert(TimeCondition="4", GTDDate="20250331"), "DU1")
    assert (spec.tif, spec.goodTillDate) == ("GTD", "20250331 23:59:59")


@pytest.mark.parametrize(("values", "field"), [
    ({"Direction": "x"}, "Direction"),
    ({"VolumeTotalOriginal": 0}, "VolumeTotalOriginal"),
    ({"VolumeTotalOriginal": 1.5}, "VolumeTotalOriginal"),
    ({"LimitPrice": 0.0}, "LimitPrice"),
    ({"LimitPrice": math.inf}, "LimitPrice"),
    ({"OrderPriceType": "3"}, "OrderPriceType"),
    ({"TimeCondition": "6"}, "TimeCondition"),
    ({"TimeCondition": "4", "GTDDate": "soon"}, "GTDDate"),
    ({"VolumeCondition": "2"}, "VolumeCondition"),
    ({"VolumeCondition": "3"}, "VolumeCondition"),
    ({"ContingentCondition": "2"}, "ContingentCondition"),
    ({"OrderPriceType": "1", "TimeCondition": "5"}, "TimeCondition"),
])
def test_bad_insert_fields_are_error_15_naming_the_field(values, field):
    with pytest.raises(CtpError) as info:
        orders.to_order(_insert(**values), "DU1")
    assert info.value.error_id == errors.BAD_ORDER_FIELD
    assert info.value.detail == field
    assert field in info.value.error_msg


@pytest.mark.parametrize(("status", "filled", "rejected", "want"), [
    ("PendingSubmit", 0, False, ("0", "a")),
    ("ApiPending", 0, False, ("0", "a")),
    ("PreSubmitted", 0, False, ("3", "3")),
    ("Submitted", 0, False, ("3", "3")),
    ("Submitted", 5, False, ("3", "1")),
    ("PendingCancel", 0, False, ("1", "3")),
    ("Filled", 10, False, ("3", "0")),
    ("Cancelled", 0, False, ("3", "5")),
    ("Cancelled", 4, False, ("3", "5")),
    ("ApiCancelled", 0, False, ("3", "5")),
    ("Inactive", 0, False, ("3", "4")),
    ("Inactive", 2, False, ("3", "2")),
    ("Cancelled", 0, True, ("4", "5")),
])
def test_ib_status_to_ctp(status, filled, rejected, want):
    state = orders.IbOrderState(7, 0, status, filled, rejected)
    assert orders.ctp_status(state) == want


def test_order_sys_id_is_perm_id_then_order_id():
    assert orders.order_sys_id(orders.IbOrderState(7, 0, "PendingSubmit")) == ""
    assert orders.order_sys_id(orders.IbOrderState(7, 0, "Submitted")) == "7"
    assert orders.order_sys_id(orders.IbOrderState(7, 9001, "Submitted")) == "9001"


def test_order_to_ctp():
    origin = orders.OrderOrigin(_insert(ExchangeID="NASDAQ", UserID="alice", RequestID=3),
                                front_id=2, session_id=77, insert_date="20250304",
                                insert_time="10:30:00")
    row = orders.order_to_ctp(origin, orders.IbOrderState(7, 9001, "Submitted", 4.0),
                              broker_id="IB", account="DU1", trading_day="20250304",
                              now=NOW, currency="USD")
    assert row["OrderSysID"] == "9001" and row["OrderLocalID"] == "7"
    assert (row["OrderSubmitStatus"], row["OrderStatus"]) == ("3", "1")
    assert (row["VolumeTraded"], row["VolumeTotal"], row["VolumeTotalOriginal"]) == (4, 6, 10)
    assert (row["FrontID"], row["SessionID"], row["OrderRef"]) == (2, 77, "42")
    assert (row["InvestorID"], row["BrokerID"], row["UserID"]) == ("DU1", "IB", "alice")
    assert (row["LimitPrice"], row["Direction"], row["TimeCondition"]) == (101.5, "0", "3")
    assert row["CancelTime"] == "" and row["StatusMsg"] == "Submitted"
    cancelled = orders.order_to_ctp(origin, orders.IbOrderState(7, 9001, "Cancelled", 4.0),
                                    broker_id="IB", account="DU1", trading_day="20250304",
                                    now=NOW)
    assert cancelled["OrderStatus"] == "5" and cancelled["CancelTime"] == "10:30:15"


def test_origin_of_an_order_placed_elsewhere():
    order = LimitOrder("SELL", 300, 480.2, orderRef="tws", clientId=0, tif="IOC")
    origin = orders.origin_from_ib(("00700", "HKEX"), order, NOW)
    req = origin.input
    assert (req["InstrumentID"], req["Direction"], req["OrderPriceType"]) == ("00700", "1", "2")
    assert (req["LimitPrice"], req["VolumeTotalOriginal"], req["TimeCondition"]) == (
        480.2, 300, "1")
    market = orders.origin_from_ib(("AAPL", "NASDAQ"), MarketOrder("BUY", 1), NOW).input
    assert (market["OrderPriceType"], market["LimitPrice"]) == ("1", 0.0)


def _fill(commission: float | None) -> Fill:
    execution = Execution(execId="0001.0002.01.01", time=datetime(2025, 3, 4, 2, 30, 15,
                                                                  tzinfo=timezone.utc),
                          acctNumber="DU1", side="BOT", shares=10.0, price=101.25,
                          permId=9001, orderId=7, orderRef="42")
    report = CommissionReport() if commission is None else CommissionReport(
        execId=execution.execId, commission=commission, currency="USD")
    return Fill(Stock("AAPL", "SMART", "USD", localSymbol="AAPL"), execution, report,
                execution.time)


def test_fill_to_ctp_with_commission():
    origin = orders.OrderOrigin(_insert(UserID="alice"))
    trade = orders.fill_to_ctp(origin, _fill(1.25), ("AAPL", "NASDAQ"), broker_id="IB",
                               trading_day="20250304", local_time=NOW)
    assert (trade["TradeID"], trade["OrderSysID"], trade["OrderLocalID"]) == (
        "000100020101", "9001", "7")
    assert (trade["Direction"], trade["OffsetFlag"], trade["Price"], trade["Volume"]) == (
        "0", "0", 101.25, 10)
    assert (trade["TradeDate"], trade["TradeTime"]) == ("20250304", "10:30:15")
    assert (trade["Commission"], trade["CommissionCurrency"]) == (1.25, "USD")
    assert trade["OrderRef"] == "42" and trade["InvestorID"] == "DU1"


def test_trade_ids_fit_ctp():
    assert orders.trade_id("0000e0d5.6576c3f9.01.01") == "0000e0d56576c3f90101"
    long = orders.trade_id("0000e0d5.6576c3f9.01.01.02.03")
    assert len(long) == 20 and long == orders.trade_id("0000e0d5.6576c3f9.01.01.02.03")


def test_fill_without_commission_report_yet():
    trade = orders.fill_to_ctp(None, _fill(None), ("AAPL", "NASDAQ"), broker_id="IB",
                               trading_day="20250304", local_time=NOW)
    assert (trade["Commission"], trade["CommissionCurrency"]) == (0.0, "")
    assert trade["OffsetFlag"] == "0" and trade["OrderRef"] == "42"


# --- accounts -----------------------------------------------------------------------------


def _values(*rows) -> list[AccountValue]:
    return [AccountValue("DU1", tag, value, currency, "") for tag, value, currency in rows]


def test_account_values_to_trading_account_prefer_base():
    values = [*_values(
        ("NetLiquidation", "1100", "USD"), ("AvailableFunds", "900", "USD"),
        ("InitMarginReq", "150", "USD"), ("MaintMarginReq", "120", "USD"),
        ("RealizedPnL", "30", "USD"), ("RealizedPnL", "40", "BASE"),
        ("RealizedPnL", "999", "HKD"), ("UnrealizedPnL", "70", "BASE"),
        ("PreviousDayEquityWithLoanValue", "1000", "USD"), ("AccountType", "INDIVIDUAL", ""),
    ), AccountValue("DU2", "NetLiquidation", "5", "USD", "")]
    row = accounts.account_to_ctp(values, "DU1", broker_id="IB", trading_day="20250304",
                                  commission=10.0)
    assert (row["Balance"], row["Available"], row["CurrMargin"]) == (1100.0, 900.0, 150.0)
    assert (row["CloseProfit"], row["PositionProfit"], row["PreBalance"]) == (40.0, 70.0, 1000.0)
    assert (row["Commission"], row["CurrencyID"], row["AccountID"]) == (10.0, "USD", "DU1")
    assert row["Balance"] == row["PreBalance"] + row["CloseProfit"] + row["PositionProfit"] \
        - row["Commission"]


def test_pre_balance_derived_when_ib_sends_none():
    values = _values(("NetLiquidation", "1000", "USD"), ("RealizedPnL", "5", "USD"),
                     ("UnrealizedPnL", "-20", "USD"))
    row = accounts.account_to_ctp(values, "DU1", broker_id="IB", trading_day="20250304",
                                  commission=2.0)
    assert row["PreBalance"] == 1000 - 5 + 20 + 2


def test_exchange_rates_convert_to_base():
    values = _values(("ExchangeRate", "0.128", "HKD"), ("ExchangeRate", "1.00", "BASE"),
                     ("ExchangeRate", "1", "USD"), ("NetLiquidation", "1", "USD"))
    rates = accounts.exchange_rates(values, "DU1")
    assert rates == {"HKD": 0.128, "USD": 1.0}


@pytest.mark.parametrize(("size", "direction"), [(100, "2"), (-3, "3")])
def test_position_to_ctp(size, direction):
    row = accounts.position_to_ctp(("AAPL", "NASDAQ"), size, 101.5, broker_id="IB",
                                   account="DU1", trading_day="20250304", market_price=103.0,
                                   unrealized=150.0, realized=-2.0)
    assert (row["PosiDirection"], row["Position"], row["PositionDate"]) == (
        direction, abs(size), "1")
    assert row["PositionCost"] == pytest.approx(101.5 * abs(size))
    assert (row["PositionProfit"], row["CloseProfit"], row["SettlementPrice"]) == (
        150.0, -2.0, 103.0)
    assert accounts.position_to_ctp(("AAPL", "NASDAQ"), 0, 0, broker_id="IB", account="DU1",
                                    trading_day="x") is None


# --- market data ------------------------------------------------------------------------


def test_ticker_to_depth():
    ticker = Ticker(contract=Stock("AAPL", "SMART", "USD", localSymbol="AAPL"), bid=101.0,
                    bidSize=300.0, ask=101.02, askSize=200.0, last=101.01, volume=12345.0,
                    open=100.0, high=102.0, low=99.5, close=98.7, vwap=100.5)
    depth = market.ticker_to_depth(ticker, ("AAPL", "NASDAQ"), trading_day="20250304",
                                   local_time=NOW)
    assert (depth["InstrumentID"], depth["ExchangeID"]) == ("AAPL", "NASDAQ")
    assert (depth["BidPrice1"], depth["BidVolume1"], depth["AskPrice1"], depth["AskVolume1"]) \
        == (101.0, 300, 101.02, 200)
    assert (depth["LastPrice"], depth["Volume"], depth["OpenPrice"]) == (101.01, 12345, 100.0)
    assert (depth["HighestPrice"], depth["LowestPrice"], depth["PreClosePrice"]) == (
        102.0, 99.5, 98.7)
    assert (depth["UpdateTime"], depth["UpdateMillisec"], depth["ActionDay"]) == (
        "10:30:15", 250, "20250304")
    assert depth["Turnover"] == pytest.approx(100.5 * 12345)


def test_unset_ticker_values_become_zero():
    ticker = Ticker(contract=Stock("AAPL", "SMART", "USD"), bid=-1.0, ask=math.nan,
                    last=1.7976931348623157e308)
    depth = market.ticker_to_depth(ticker, ("AAPL", "US"), trading_day="d", local_time=NOW)
    assert depth["BidPrice1"] == depth["AskPrice1"] == depth["LastPrice"] == 0.0
    assert depth["Volume"] == depth["BidVolume1"] == 0


def test_contract_details_to_instrument():
    details = ContractDetails(
        contract=Stock("700", "SEHK", "HKD", localSymbol="700", tradingClass="700"),
        longName="TENCENT", minTick=0.2, minSize=100.0)
    row = market.details_to_instrument(details, ("00700", "HKEX"))
    assert (row["InstrumentID"], row["ExchangeID"], row["InstrumentName"]) == (
        "00700", "HKEX", "TENCENT")
    assert (row["ProductClass"], row["PriceTick"], row["VolumeMultiple"]) == ("4", 0.2, 1)
    assert row["MinLimitOrderVolume"] == 100
    future = ContractDetails(contract=Contract(secType="FUT", symbol="ES", multiplier="50",
                                               lastTradeDateOrContractMonth="20250620"),
                             minTick=0.25)
    row = market.details_to_instrument(future, ("ESM5", "CME"))
    assert (row["ProductClass"], row["VolumeMultiple"], row["ExpireDate"]) == (
        "1", 50, "20250620")
    assert (row["DeliveryYear"], row["DeliveryMonth"]) == (2025, 6)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "text", "want"), [
    (200, "No security definition has been found for the request", 16),
    (201, "Order rejected - reason:YOUR EQUITY WITH LOAN VALUE MUST EXCEED THE INITIAL "
          "MARGIN", 31),
    (201, "Order rejected - reason:insufficient buying power", 31),
    (201, "Order rejected - reason:the order exceeds the position", 30),
    (201, "Order rejected - reason:trading is halted", 17),
    (201, "Order rejected - reason:something else", 15),
    (10147, "OrderId 5 that needs to be cancelled is not found.", 25),
    (10148, "OrderId 5 that needs to be cancelled cannot be cancelled, state: Filled.", 26),
    (161, "Cancel attempted when order is not in a cancellable state", 26),
    (103, "Duplicate order id", 22),
    (110, "The price does not conform to the minimum price variation", 15),
    (504, "Not connected", 8),
    (1100, "Connectivity between IB and Trader Workstation has been lost.", 8),
    (162, "Historical Market Data Service error message", -1),
])
def test_ib_error_codes_map_to_ctp(code, text, want):
    error = ib_errors.ib_error(code, text)
    assert error.error_id == want
    assert error.error_msg == f"IB {code}: {text}"


def test_warnings_are_not_errors():
    assert ib_errors.is_warning(2104) and ib_errors.is_warning(202)
    assert not ib_errors.is_warning(2110) and not ib_errors.is_warning(201)


# --- config -------------------------------------------------------------------------------


def test_config_defaults_and_errors():
    settings = config.parse({"users": [{"user_id": "u", "password": "p"}]}, "ib")
    assert (settings.port, settings.client_id, settings.market_data_type) == (7497, 1, 1)
    for bad, key in [({}, "ib.users"),
                     ({"users": [{"user_id": "u"}]}, "ib.users[0].password"),
                     ({"users": [{"user_id": "u", "password": "p"}], "market_data_type": 7},
                      "ib.market_data_type"),
                     ({"users": [{"user_id": "u", "password": "p"}], "reconnect_min": 0},
                      "ib.reconnect_min"),
                     ({"users": [{"user_id": "u", "password": "p"}],
                       "contracts": {"X": {"sybol": "X"}}}, "ib.contracts.X"),
                     ({"users": [{"user_id": "u", "password": "p"}], "port": "x"}, "ib.port")]:
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            config.parse(bad, "ib")
