"""CTP front checks: each rejection with its ErrorID, the InputOrder echoed, ErrRtn pushed."""

from __future__ import annotations

import pytest

from wsbridge.simulators.exchange import Exchange, OrderRejected, ctp

from .helpers import TICK, future_id, last_order, levels, make_settings, order


def _reject(ex, session, body) -> OrderRejected:
    before = ex.query(session, "ReqQryTradingAccount", {})
    with pytest.raises(OrderRejected) as info:
        ex.insert_order(session, body)
    exc = info.value
    assert set(exc.body) == set(ctp.blank("InputOrder"))
    assert [(e.msg_type, e.body_key) for e in exc.events] == [("ErrRtnOrderInsert", "InputOrder")]
    push = exc.events[0]
    assert push.account == session.account and push.body == exc.body
    assert push.rsp_info == {"ErrorID": exc.error_id, "ErrorMsg": exc.error_msg}
    assert ex.query(session, "ReqQryTradingAccount", {}) == before  # nothing frozen
    return exc


BAD_FIELDS = [
    ("Direction", {"Direction": "x"}),
    ("CombOffsetFlag", {"CombOffsetFlag": "9"}),
    ("CombHedgeFlag", {"CombHedgeFlag": "3"}),
    ("OrderPriceType", {"OrderPriceType": "4"}),
    ("TimeCondition", {"TimeCondition": "5"}),
    ("VolumeCondition", {"VolumeCondition": "9"}),
    ("ContingentCondition", {"ContingentCondition": "2"}),
    ("VolumeTotalOriginal", {"VolumeTotalOriginal": 0}),
    ("VolumeTotalOriginal", {"VolumeTotalOriginal": -3}),
    ("VolumeTotalOriginal", {"VolumeTotalOriginal": 501}),
    ("VolumeTotalOriginal", {"VolumeTotalOriginal": 2.5}),
    ("LimitPrice", {"LimitPrice": "abc"}),
    ("MinVolume", {"TimeCondition": "1", "VolumeCondition": "2", "MinVolume": 0}),
]


@pytest.mark.parametrize(("field", "change"), BAD_FIELDS)
def test_bad_fields_are_error_15_naming_the_field(ex, session, field, change):
    iid = future_id(ex, "rb")
    body = order(iid, "0", "0", ex.depth(iid)["LastPrice"], 1)
    body.update(change)
    exc = _reject(ex, session, body)
    assert exc.error_id == 15 and field in exc.error_msg


def test_messages_say_what_was_wrong(ex, session):
    iid = future_id(ex, "rb")
    exc = _reject(ex, session, order(iid, "1", "1", ex.depth(iid)["LastPrice"], 2))
    assert exc.error_msg == "CTP:Close volume exceeds position: closeable 0, asked 2"


def test_numbers_sent_as_text_are_read_as_numbers(ex, session):
    iid = future_id(ex, "rb")
    body = order(iid, "0", "0", str(ex.depth(iid)["LowerLimitPrice"]), "2")
    placed = last_order(ex.insert_order(session, body))
    assert placed["VolumeTotalOriginal"] == 2 and isinstance(placed["LimitPrice"], float)
    ex.cancel_order(session, {"FrontID": str(placed["FrontID"]),
                              "SessionID": str(placed["SessionID"]), "OrderRef": "1"})


def test_price_outside_the_daily_limits_is_15(ex, session):
    iid = future_id(ex, "rb")
    d = ex.depth(iid)
    for price in (d["UpperLimitPrice"] + 1, d["LowerLimitPrice"] - 1):
        exc = _reject(ex, session, order(iid, "0", "0", price, 1))
        assert exc.error_id == 15 and "limits" in exc.error_msg


def test_price_off_the_tick_grid_is_15(ex, session):
    iid = future_id(ex, "au")
    exc = _reject(ex, session, order(iid, "0", "0", ex.depth(iid)["LastPrice"] + 0.01, 1))
    assert exc.error_id == 15 and "PriceTick" in exc.error_msg


def test_stock_volume_must_be_a_board_lot(ex, session):
    exc = _reject(ex, session, order("00700", "0", "0", ex.depth("00700")["LastPrice"], 50))
    assert exc.error_id == 15 and "lot" in exc.error_msg


def test_stocks_cannot_be_sold_short(ex, session):
    exc = _reject(ex, session, order("AAPL", "1", "0", ex.depth("AAPL")["LastPrice"], 1))
    assert exc.error_id == 15 and "short" in exc.error_msg


@pytest.mark.parametrize("change", [{"InstrumentID": "xx9999"}, {"ExchangeID": "DCE"}])
def test_unknown_instrument_is_16(ex, session, change):
    iid = future_id(ex, "rb")
    body = order(iid, "0", "0", ex.depth(iid)["LastPrice"], 1)
    body.update(change)
    assert _reject(ex, session, body).error_id == 16


def test_insufficient_money_is_31(clock):
    ex = Exchange(make_settings(initial_funds=20_000.0), clock=clock)
    session = ex.login("", "poor", "pw")
    iid = future_id(ex, "IF")
    exc = _reject(ex, session, order(iid, "0", "0", ex.depth(iid)["LastPrice"], 1))
    assert exc.error_id == 31


def test_closing_without_a_position_is_30(ex, session):
    iid = future_id(ex, "m")
    for offset in ("1", "3", "4"):
        exc = _reject(ex, session, order(iid, "1", offset, ex.depth(iid)["LastPrice"], 1))
        assert exc.error_id == 30


def _buy(ex, session, iid, volume=1):
    ask = levels(ex.depth(iid), "Ask")[0][0]
    assert last_order(ex.insert_order(session, order(iid, "0", "0", ask, volume)))[
        "OrderStatus"] == "0"


def test_shfe_close_rules_50_and_51(ex, session, clock):
    iid = future_id(ex, "rb")
    _buy(ex, session, iid)
    bid = levels(ex.depth(iid), "Bid")[0][0]
    for offset in ("1", "4"):  # on SHFE both close only yesterday's position
        assert _reject(ex, session, order(iid, "1", offset, bid, 1)).error_id == 51
    clock.tick(86400 / TICK)  # next trading day: the lot is yesterday's
    ex.advance()
    bid = levels(ex.depth(iid), "Bid")[0][0]
    assert _reject(ex, session, order(iid, "1", "3", bid, 1)).error_id == 50
    _buy(ex, session, iid)
    assert _reject(ex, session, order(iid, "1", "1", bid, 2)).error_id == 51
    assert _reject(ex, session, order(iid, "1", "3", bid, 2)).error_id == 50
    assert _reject(ex, session, order(iid, "1", "1", bid, 3)).error_id == 30


def test_other_exchanges_honour_explicit_close_today_and_yesterday(ex, session, clock):
    iid = future_id(ex, "m")
    _buy(ex, session, iid)
    bid = levels(ex.depth(iid), "Bid")[0][0]
    assert _reject(ex, session, order(iid, "1", "4", bid, 1)).error_id == 51
    clock.tick(86400 / TICK)
    ex.advance()
    bid = levels(ex.depth(iid), "Bid")[0][0]
    assert _reject(ex, session, order(iid, "1", "3", bid, 1)).error_id == 50


def test_settlement_must_be_confirmed_when_required(clock):
    ex = Exchange(make_settings(require_settlement_confirm=True), clock=clock)
    session = ex.login("", "alice", "pw")
    iid = future_id(ex, "rb")
    body = order(iid, "0", "0", ex.depth(iid)["LowerLimitPrice"], 1)
    assert _reject(ex, session, body).error_id == 42
    ex.query(session, "ReqSettlementInfoConfirm", {})
    ex.insert_order(session, body)


def _reject_action(ex, session, body) -> OrderRejected:
    with pytest.raises(OrderRejected) as info:
        ex.cancel_order(session, body)
    exc = info.value
    assert set(exc.body) == set(ctp.blank("InputOrderAction"))
    (push,) = exc.events
    assert (push.msg_type, push.body_key) == ("ErrRtnOrderAction", "OrderAction")
    assert set(push.body) == set(ctp.blank("OrderAction"))
    assert push.body["OrderActionStatus"] == "c" and push.rsp_info["ErrorID"] == exc.error_id
    return exc


def test_cancel_rejections_25_and_26(ex, session):
    iid = future_id(ex, "rb")
    assert _reject_action(ex, session, {"OrderSysID": "999999"}).error_id == 25
    assert _reject_action(ex, session, {"OrderRef": "42"}).error_id == 25
    resting = last_order(ex.insert_order(
        session, order(iid, "0", "0", ex.depth(iid)["LowerLimitPrice"], 1)))
    bob = ex.login("9999", "bob", "pw")
    assert _reject_action(ex, bob, {"OrderSysID": resting["OrderSysID"]}).error_id == 25
    ex.cancel_order(session, {"OrderSysID": resting["OrderSysID"]})
    exc = _reject_action(ex, session, {"OrderSysID": resting["OrderSysID"]})
    assert exc.error_id == 26
    assert exc.events[0].body["InstrumentID"] == iid
    _buy(ex, session, iid)
    filled = ex.query(session, "ReqQryOrder", {})[-1]
    assert _reject_action(ex, session, {"OrderSysID": filled["OrderSysID"]}).error_id == 26


def test_modify_is_not_supported(ex, session):
    iid = future_id(ex, "rb")
    resting = last_order(ex.insert_order(
        session, order(iid, "0", "0", ex.depth(iid)["LowerLimitPrice"], 1)))
    exc = _reject_action(ex, session, {"OrderSysID": resting["OrderSysID"], "ActionFlag": "3"})
    assert exc.error_id == 23


def test_login_checks_the_password_of_a_known_user(ex, session):
    from wsbridge.protocol.errors import CtpError

    with pytest.raises(CtpError) as info:
        ex.login("9999", "alice", "wrong")
    assert info.value.error_id == 3
    with pytest.raises(CtpError) as info:
        ex.update_password(session, "wrong", "new")
    assert info.value.error_id == 14
    ex.update_password(session, "secret", "new")
    ex.login("9999", "alice", "new")
