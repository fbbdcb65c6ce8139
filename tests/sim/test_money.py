"""Money and positions with CTP semantics: freezing, margin, fees, profit, the day roll."""

from __future__ import annotations

import pytest

from .helpers import TICK, future_id, kinds, last_order, levels, order, trades

approx = pytest.approx


def _account(ex, session, currency=""):
    return ex.query(session, "ReqQryTradingAccount", {"CurrencyID": currency})[0]


def _positions(ex, session, iid):
    return ex.query(session, "ReqQryInvestorPosition", {"InstrumentID": iid})


def _fill(ex, session, iid, direction, offset, volume=1):
    """Trade ``volume`` at the touch; the fill price (one level is enough for these sizes)."""
    side = "Ask" if direction == "0" else "Bid"
    price = levels(ex.depth(iid), side)[0][0]
    events = ex.insert_order(session, order(iid, direction, offset, price, volume))
    assert last_order(events)["OrderStatus"] == "0", kinds(events)
    (price,) = {t["Price"] for t in trades(events)}
    return price


def _assert_identities(a):
    assert a["Balance"] == approx(
        a["PreBalance"] + a["Deposit"] - a["Withdraw"] + a["CloseProfit"]
        + a["PositionProfit"] - a["Commission"]
    )
    assert a["Available"] == approx(
        a["Balance"] - a["CurrMargin"] - a["FrozenMargin"] - a["FrozenCommission"]
    )


def test_an_opening_order_freezes_margin_and_fee_until_canceled(ex, session):
    iid = future_id(ex, "rb")
    price = ex.depth(iid)["LowerLimitPrice"]
    placed = last_order(ex.insert_order(session, order(iid, "0", "0", price, 4)))
    a = _account(ex, session)
    assert a["FrozenMargin"] == approx(price * 4 * 10 * 0.10)
    assert a["FrozenCommission"] == approx(price * 4 * 10 * 0.0001)
    assert a["Available"] == approx(10_000_000 - a["FrozenMargin"] - a["FrozenCommission"])
    _assert_identities(a)
    ex.cancel_order(session, {"OrderSysID": placed["OrderSysID"]})
    a = _account(ex, session)
    assert a["FrozenMargin"] == 0 and a["FrozenCommission"] == 0
    assert a["Available"] == a["Balance"] == 10_000_000


def test_a_fill_turns_frozen_into_margin_fee_and_a_position(ex, session):
    iid = future_id(ex, "rb")
    price = _fill(ex, session, iid, "0", "0", 3)
    a = _account(ex, session)
    assert a["FrozenMargin"] == 0 and a["FrozenCommission"] == 0
    assert a["CurrMargin"] == approx(price * 3 * 10 * 0.10)
    assert a["Commission"] == approx(price * 3 * 10 * 0.0001)
    _assert_identities(a)
    (row,) = _positions(ex, session, iid)
    assert (row["PosiDirection"], row["PositionDate"]) == ("2", "1")
    assert (row["Position"], row["TodayPosition"], row["YdPosition"]) == (3, 3, 0)
    assert row["OpenVolume"] == 3 and row["OpenCost"] == row["PositionCost"] == price * 30
    last = ex.depth(iid)["LastPrice"]
    assert row["PositionProfit"] == approx((last - price) * 30)
    assert row["UseMargin"] == approx(a["CurrMargin"])


def test_close_today_realises_profit_and_releases_margin(ex, session, clock):
    iid = future_id(ex, "rb")
    bought = _fill(ex, session, iid, "0", "0", 2)
    clock.tick(40)
    ex.advance()
    sold = _fill(ex, session, iid, "1", "3", 2)
    a = _account(ex, session)
    assert a["CloseProfit"] == approx((sold - bought) * 20)
    assert a["CurrMargin"] == approx(0) and a["PositionProfit"] == approx(0)
    fees = (bought + sold) * 20 * 0.0001
    assert a["Commission"] == approx(fees)
    assert a["Balance"] == approx(10_000_000 + (sold - bought) * 20 - fees)
    (row,) = _positions(ex, session, iid)  # a closed row stays for the day, like CTP's
    assert row["Position"] == 0 and row["CloseVolume"] == 2
    assert ex.query(session, "ReqQryInvestorPositionDetail", {}) == []


def test_short_positions_profit_when_prices_fall(ex, session):
    iid = future_id(ex, "m")
    sold = _fill(ex, session, iid, "1", "0", 5)
    (row,) = _positions(ex, session, iid)
    assert row["PosiDirection"] == "3" and row["Position"] == 5
    last = ex.depth(iid)["LastPrice"]
    assert row["PositionProfit"] == approx((sold - last) * 50)
    assert _account(ex, session)["Commission"] == approx(5 * 1.5)  # by volume


def test_a_close_order_freezes_the_position(ex, session):
    iid = future_id(ex, "rb")
    _fill(ex, session, iid, "0", "0", 3)
    upper = ex.depth(iid)["UpperLimitPrice"]
    ex.insert_order(session, order(iid, "1", "3", upper, 2))  # rests far above
    (row,) = _positions(ex, session, iid)
    assert row["ShortFrozen"] == 2 and row["LongFrozen"] == 0  # CTP: named by closing side
    assert _account(ex, session)["FrozenCommission"] == approx(upper * 2 * 10 * 0.0001)
    result = ex.query(session, "ReqQryMaxOrderVolume", {
        "InstrumentID": iid, "Direction": "1", "OffsetFlag": "3"})
    assert result[0]["MaxVolume"] == 1


def test_close_on_other_exchanges_takes_yesterday_first(ex, session, clock):
    iid = future_id(ex, "IF")
    _fill(ex, session, iid, "0", "0", 2)
    clock.tick(86400 / TICK)
    ex.advance()
    bought = _fill(ex, session, iid, "0", "0", 1)
    (row,) = _positions(ex, session, iid)
    assert (row["PositionDate"], row["Position"], row["YdPosition"], row["TodayPosition"]) == (
        "1", 3, 2, 1)
    price = _fill(ex, session, iid, "1", "1", 3)  # closes 2 old lots, then today's
    (row,) = _positions(ex, session, iid)
    assert row["Position"] == 0 and row["CloseVolume"] == 3
    spec = ex.instruments[iid].spec
    # CFFEX charges today's round trip the close-today rate, even with a plain Close.
    fees = 300 * (
        bought * spec.open_ratio_by_money
        + price * (2 * spec.close_ratio_by_money + spec.close_today_ratio_by_money)
    )
    assert row["Commission"] == approx(fees)


def test_shfe_reports_today_and_history_rows(ex, session, clock):
    iid = future_id(ex, "rb")
    _fill(ex, session, iid, "0", "0", 2)
    clock.tick(86400 / TICK)
    ex.advance()
    _fill(ex, session, iid, "0", "0", 1)
    rows = {r["PositionDate"]: r for r in _positions(ex, session, iid)}
    assert (rows["2"]["Position"], rows["2"]["YdPosition"], rows["2"]["TodayPosition"]) == (
        2, 2, 0)
    assert (rows["1"]["Position"], rows["1"]["TodayPosition"]) == (1, 1)
    _fill(ex, session, iid, "1", "1", 1)  # Close on SHFE: yesterday's
    rows = {r["PositionDate"]: r for r in _positions(ex, session, iid)}
    assert rows["2"]["Position"] == 1 and rows["2"]["YdPosition"] == 2
    assert rows["1"]["Position"] == 1


def test_day_roll_settles_and_cancels_day_orders(ex, session, clock):
    iid = future_id(ex, "rb")
    bought = _fill(ex, session, iid, "0", "0", 2)
    resting = last_order(ex.insert_order(
        session, order(iid, "0", "0", ex.depth(iid)["LowerLimitPrice"], 1)))
    clock.tick(86400 / TICK)
    events = ex.advance()
    assert [(e.msg_type, e.body["OrderSysID"], e.body["OrderStatus"]) for e in events] == [
        ("RtnOrder", resting["OrderSysID"], "5")]
    assert ex.trading_day == "20260311"
    settle = ex.depth(iid)["PreSettlementPrice"]
    a = _account(ex, session)
    fee = bought * 20 * 0.0001
    assert a["PreBalance"] == approx(10_000_000 - fee + (settle - bought) * 20)
    assert a["Commission"] == 0 and a["CloseProfit"] == 0 and a["FrozenMargin"] == 0
    assert a["CurrMargin"] == approx(settle * 20 * 0.10)
    _assert_identities(a)
    (row,) = _positions(ex, session, iid)
    assert (row["PositionDate"], row["YdPosition"], row["Position"]) == ("2", 2, 2)
    assert row["PositionCost"] == approx(settle * 20)
    assert row["OpenCost"] == approx(bought * 20)
    assert ex.query(session, "ReqQryOrder", {}) == []
    assert ex.query(session, "ReqQryTrade", {}) == []
    (detail,) = ex.query(session, "ReqQryInvestorPositionDetail", {})
    assert detail["OpenDate"] == "20260310" and detail["Volume"] == 2


def test_stocks_buy_with_full_cash_in_their_currency(ex, session):
    price = _fill(ex, session, "AAPL", "0", "0", 10)
    usd = _account(ex, session, "USD")
    assert usd["CurrMargin"] == approx(price * 10)
    assert usd["Commission"] == approx(10 * 0.005)
    assert _account(ex, session, "CNY")["CurrMargin"] == 0
    _fill(ex, session, "AAPL", "1", "1", 10)
    (row,) = _positions(ex, session, "AAPL")
    assert row["Position"] == 0
    assert _account(ex, session, "USD")["CurrMargin"] == approx(0)


def test_max_order_volume_follows_available_money(ex, session):
    iid = future_id(ex, "IF")
    (row,) = ex.query(session, "ReqQryMaxOrderVolume", {
        "InstrumentID": iid, "Direction": "0", "OffsetFlag": "0", "HedgeFlag": "1"})
    last = ex.depth(iid)["LastPrice"]
    unit = last * 300 * 0.12 + last * 300 * 0.000023
    assert row["MaxVolume"] == int(10_000_000 // unit)
    assert set(row) >= {"BrokerID", "InvestorID", "InstrumentID", "MaxVolume"}
