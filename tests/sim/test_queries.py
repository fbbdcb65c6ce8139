"""Every td query answers with full CTP struct dicts, honours its filters, and isolates
accounts."""

from __future__ import annotations

import pytest

from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.exchange import ctp

from .helpers import future_id, levels, order

STRUCTS = {
    "ReqQryInstrument": "Instrument",
    "ReqQryExchange": "Exchange",
    "ReqQryProduct": "Product",
    "ReqQryDepthMarketData": "DepthMarketData",
    "ReqQryOrder": "Order",
    "ReqQryTrade": "Trade",
    "ReqQryInvestorPosition": "InvestorPosition",
    "ReqQryInvestorPositionDetail": "InvestorPositionDetail",
    "ReqQryTradingAccount": "TradingAccount",
    "ReqQryInvestor": "Investor",
    "ReqQryTradingCode": "TradingCode",
    "ReqQryInstrumentMarginRate": "InstrumentMarginRate",
    "ReqQryInstrumentCommissionRate": "InstrumentCommissionRate",
    "ReqQryExchangeMarginRate": "ExchangeMarginRate",
    "ReqQryInstrumentOrderCommRate": "InstrumentOrderCommRate",
    "ReqSettlementInfoConfirm": "SettlementInfoConfirm",
    "ReqQrySettlementInfoConfirm": "SettlementInfoConfirm",
    "ReqQrySettlementInfo": "SettlementInfo",
    "ReqAuthenticate": "RspAuthenticate",
    "ReqUserLogout": "UserLogout",
}


@pytest.fixture
def trading(ex, session):
    """A session with a position, a trade, a resting order and a confirmed settlement."""
    ex.query(session, "ReqSettlementInfoConfirm", {})
    iid = future_id(ex, "rb")
    ex.insert_order(session, order(iid, "0", "0", levels(ex.depth(iid), "Ask")[0][0], 2))
    ex.insert_order(session, order(iid, "0", "0", ex.depth(iid)["LowerLimitPrice"], 1))
    return session


@pytest.mark.parametrize("msg_type", sorted(STRUCTS))
def test_every_query_answers_full_structs(ex, trading, msg_type):
    rows = ex.query(trading, msg_type, {})
    assert rows, msg_type
    fields = set(ctp.blank(STRUCTS[msg_type]))
    for row in rows:
        assert set(row) == fields


def test_option_queries_are_empty(ex, session):
    assert ex.query(session, "ReqQryOptionInstrTradeCost", {}) == []
    assert ex.query(session, "ReqQryOptionInstrCommRate", {}) == []


def test_unknown_queries_are_404(ex, session):
    with pytest.raises(CtpError) as info:
        ex.query(session, "ReqQryBrokerTradingAlgos", {})
    assert info.value.error_id == -404


def test_instrument_filters(ex, session):
    rb = future_id(ex, "rb")
    assert [r["InstrumentID"] for r in ex.query(session, "ReqQryInstrument",
                                                {"InstrumentID": rb})] == [rb]
    shfe = ex.query(session, "ReqQryInstrument", {"ExchangeID": "SHFE"})
    assert shfe and {r["ExchangeID"] for r in shfe} == {"SHFE"}
    assert {r["ProductID"] for r in ex.query(session, "ReqQryInstrument",
                                             {"ProductID": "TA"})} == {"TA"}
    assert ex.query(session, "ReqQryInstrument", {"InstrumentID": "nope"}) == []
    (depth,) = ex.query(session, "ReqQryDepthMarketData", {"InstrumentID": rb})
    assert depth == ex.depth(rb)
    stocks = ex.query(session, "ReqQryDepthMarketData", {"ProductClass": "4"})
    assert {d["InstrumentID"] for d in stocks} == {
        "AAPL", "MSFT", "00700", "09988", "600000", "000001"}
    (xchg,) = ex.query(session, "ReqQryExchange", {"ExchangeID": "CZCE"})
    assert xchg["ExchangeName"] == "郑州商品交易所"
    (rate,) = ex.query(session, "ReqQryInstrumentCommissionRate", {"InstrumentID": rb})
    assert rate["OpenRatioByMoney"] == 0.0001
    (margin,) = ex.query(session, "ReqQryInstrumentMarginRate", {"InstrumentID": rb})
    assert margin["LongMarginRatioByMoney"] == 0.10


def test_accounts_see_only_their_own_business(ex, trading):
    bob = ex.login("9999", "bob", "pw")
    for msg_type in ("ReqQryOrder", "ReqQryTrade", "ReqQryInvestorPosition",
                     "ReqQryInvestorPositionDetail"):
        assert ex.query(bob, msg_type, {}) == [], msg_type
        assert ex.query(trading, msg_type, {})
    (account,) = ex.query(bob, "ReqQryTradingAccount", {})
    assert account["AccountID"] == "bob" and account["Balance"] == 10_000_000


def test_order_and_trade_filters(ex, trading):
    rb = future_id(ex, "rb")
    orders = ex.query(trading, "ReqQryOrder", {"InstrumentID": rb})
    assert len(orders) == 2
    sys_id = orders[1]["OrderSysID"]
    assert [o["OrderSysID"] for o in ex.query(trading, "ReqQryOrder",
                                              {"OrderSysID": sys_id})] == [sys_id]
    assert ex.query(trading, "ReqQryOrder", {"InstrumentID": future_id(ex, "m")}) == []
    assert ex.query(trading, "ReqQryOrder", {"InsertTimeStart": "10:00:01"}) == []
    trades = ex.query(trading, "ReqQryTrade", {})
    assert sum(t["Volume"] for t in trades) == 2
    assert ex.query(trading, "ReqQryTrade", {"TradeID": trades[0]["TradeID"]}) == trades[:1]
    assert ex.query(trading, "ReqQryInvestorPosition", {"ExchangeID": "DCE"}) == []


def test_trading_account_by_currency(ex, session):
    assert ex.query(session, "ReqQryTradingAccount", {})[0]["CurrencyID"] == "CNY"
    assert ex.query(session, "ReqQryTradingAccount", {"CurrencyID": "HKD"})[0][
        "CurrencyID"] == "HKD"
    assert ex.query(session, "ReqQryTradingAccount", {"CurrencyID": "EUR"}) == []


def test_settlement_confirmation_round_trip(ex, session):
    assert ex.query(session, "ReqQrySettlementInfoConfirm", {}) == []
    (confirm,) = ex.query(session, "ReqSettlementInfoConfirm",
                          {"BrokerID": "9999", "InvestorID": "alice"})
    assert confirm["ConfirmDate"] == "20260310" and confirm["ConfirmTime"] == "10:00:00"
    assert ex.query(session, "ReqQrySettlementInfoConfirm", {}) == [confirm]
    text = "".join(r["Content"] for r in ex.query(session, "ReqQrySettlementInfo", {}))
    assert "alice" in text and "Balance" in text
