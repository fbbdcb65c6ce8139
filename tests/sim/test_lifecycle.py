"""Order lifecycle: limit, market, FAK, FOK, resting fills, cancels, CTP event sequence."""

from __future__ import annotations

import pytest

from wsbridge.simulators.exchange import Exchange, OrderRejected

from .helpers import (
    TICK,
    future_id,
    kinds,
    last_order,
    levels,
    make_settings,
    order,
    takeable,
    trades,
)


def test_limit_buy_at_the_ask_fills_at_the_ask_with_the_ctp_sequence(ex, session, clock):
    iid = future_id(ex, "rb")
    ask = levels(ex.depth(iid), "Ask")[0][0]
    events = ex.insert_order(session, order(iid, "0", "0", ask, 1, OrderRef="7"))
    assert kinds(events) == [
        ("RtnOrder", "a"), ("RtnOrder", "3"), ("RtnOrder", "0"), ("RtnTrade", ""),
    ]
    submitted, accepted, traded, trade = (e.body for e in events)
    assert submitted["OrderSubmitStatus"] == "0" and submitted["OrderSysID"] == ""
    assert accepted["OrderSubmitStatus"] == "3" and accepted["OrderSysID"]
    assert traded["VolumeTraded"] == 1 and traded["VolumeTotal"] == 0
    assert trade["Price"] == ask and trade["Volume"] == 1
    assert trade["OrderSysID"] == accepted["OrderSysID"] == traded["OrderSysID"]
    assert trade["OrderRef"] == "7" and trade["OffsetFlag"] == "0"
    for body in (accepted, traded):
        assert body["FrontID"] == session.front_id and body["SessionID"] == session.session_id
        assert body["InsertTime"] == "10:00:00" and body["TradingDay"] == "20260310"
        assert body["ExchangeID"] == "SHFE" and body["BrokerOrderSeq"] > 0
    seqs = [e.body["SequenceNo"] for e in events]
    assert seqs == sorted(seqs)
    assert all(e.account == "9999:alice" for e in events)


def test_a_quote_one_bucket_old_still_fills_at_its_price(ex, session, clock):
    iid = future_id(ex, "rb")
    # Find a bucket whose ask is lower in the previous bucket than now.
    for _ in range(500):
        clock.tick()
        old = levels(ex.depth(iid, clock.t - TICK), "Ask")[0][0]
        new = levels(ex.depth(iid, clock.t), "Ask")[0][0]
        if old < new:
            break
    else:
        pytest.fail("no rising ask found")
    events = ex.insert_order(session, order(iid, "0", "0", old, 1))
    assert [t["Price"] for t in trades(events)] == [old]


def test_a_quote_two_buckets_old_is_gone(ex, session, clock):
    iid = future_id(ex, "rb")
    for _ in range(2000):
        clock.tick()
        stale = levels(ex.depth(iid, clock.t - 2 * TICK), "Ask")[0][0]
        recent = min(levels(ex.depth(iid, clock.t - k * TICK), "Ask")[0][0] for k in (0, 1))
        if stale < recent:
            break
    else:
        pytest.fail("no rising ask found")
    events = ex.insert_order(session, order(iid, "0", "0", stale, 1))
    assert kinds(events) == [("RtnOrder", "a"), ("RtnOrder", "3")]


def test_a_sweep_takes_levels_best_first_at_level_prices(ex, session, clock):
    iid = future_id(ex, "rb")
    asks = levels(ex.depth(iid), "Ask")
    limit = asks[2][0]
    available = takeable(ex, iid, clock.t, True, limit)
    volume = min(available + 3, 500)
    events = ex.insert_order(session, order(iid, "0", "0", limit, volume))
    fills = trades(events)
    prices = [t["Price"] for t in fills]
    assert prices == sorted(prices) and max(prices) <= limit
    shown = {p for p, _ in asks} | {p for p, _ in levels(ex.depth(iid, clock.t - TICK), "Ask")}
    assert set(prices) <= shown
    assert sum(t["Volume"] for t in fills) == min(volume, available)
    final = last_order(events)
    assert final["VolumeTraded"] == min(volume, available)
    assert final["OrderStatus"] == ("1" if volume > available else "0")


def test_displayed_volume_is_taken_once_per_bucket(ex, session, clock):
    iid = future_id(ex, "rb")
    limit = levels(ex.depth(iid), "Ask")[1][0]
    available = takeable(ex, iid, clock.t, True, limit)
    first = ex.insert_order(session, order(iid, "0", "0", limit, available))
    assert sum(t["Volume"] for t in trades(first)) == available
    second = ex.insert_order(session, order(iid, "0", "0", limit, 1))
    assert trades(second) == [] and last_order(second)["OrderStatus"] == "3"
    # Another user in the same bucket finds the same levels gone too.
    bob = ex.login("9999", "bob", "pw")
    third = ex.insert_order(bob, order(iid, "0", "0", limit, 1))
    assert trades(third) == []


def _resting_buy(ex, session, clock, iid):
    """A buy one tick under both visible asks, and the first later bucket that crosses it."""
    tick = ex.instruments[iid].spec.tick
    asks_now = [levels(ex.depth(iid, clock.t - k * TICK), "Ask")[0][0] for k in (0, 1)]
    limit = round(min(asks_now) - tick, 6)
    events = ex.insert_order(session, order(iid, "0", "0", limit, 2))
    assert last_order(events)["OrderStatus"] == "3"
    for k in range(1, 5000):
        asks = levels(ex.depth(iid, clock.t + k * TICK), "Ask")
        if asks and asks[0][0] <= limit:
            return events, limit, k
    pytest.fail("the market never came down to the order")


def test_a_resting_order_fills_passively_at_its_limit(ex, session, clock):
    iid = future_id(ex, "rb")
    placed, limit, k = _resting_buy(ex, session, clock, iid)
    sys_id = last_order(placed)["OrderSysID"]
    assert ex.advance(clock.tick(k - 1)) == []
    events = ex.advance(clock.tick())
    fills = trades(events)
    assert fills and all(t["Price"] == limit for t in fills)
    assert all(t["OrderSysID"] == sys_id for t in fills)
    shown = sum(v for p, v in levels(ex.depth(iid, clock.t), "Ask") if p <= limit)
    assert fills[0]["Volume"] == min(2, shown)
    assert fills[0]["PriceSource"] == "1"  # the buy order's price


def test_advance_catches_up_on_missed_buckets(ex, session, clock):
    iid = future_id(ex, "rb")
    ex.advance()
    _, limit, k = _resting_buy(ex, session, clock, iid)
    clock.tick(k + 3)  # the crossing bucket is in the past now
    fills = trades(ex.advance())
    assert fills and fills[0]["Price"] == limit


def _thin(clock) -> Exchange:
    # One-lot-ish levels so an order can outgrow the book.
    settings = make_settings(instruments={"rb": {"depth_volume": 1, "max_market_volume": 200}})
    return Exchange(settings, clock=clock)


def test_market_order_fills_what_is_there_and_cancels_the_rest(clock):
    ex = _thin(clock)
    session = ex.login("", "alice", "pw")
    iid = future_id(ex, "rb")
    depth = ex.depth(iid)
    available = takeable(ex, iid, clock.t, True, depth["UpperLimitPrice"])
    events = ex.insert_order(session, order(iid, "0", "0", 0.0, 200, OrderPriceType="1"))
    filled = sum(t["Volume"] for t in trades(events))
    assert filled == available < 200
    final = last_order(events)
    assert final["OrderStatus"] == "5" and final["VolumeTraded"] == filled
    assert final["VolumeTotal"] == 200 - filled and final["CancelTime"]
    account = ex.query(session, "ReqQryTradingAccount", {})[0]
    assert account["FrozenMargin"] == 0 and account["FrozenCommission"] == 0


def test_fak_fills_part_and_cancels_the_rest(clock):
    ex = _thin(clock)
    session = ex.login("", "alice", "pw")
    iid = future_id(ex, "rb")
    ask = levels(ex.depth(iid), "Ask")[0][0]
    available = takeable(ex, iid, clock.t, True, ask)
    events = ex.insert_order(session, order(iid, "0", "0", ask, available + 5, TimeCondition="1"))
    assert sum(t["Volume"] for t in trades(events)) == available
    assert kinds(events)[-1] == ("RtnOrder", "5")


def test_fok_is_all_or_nothing(clock):
    ex = _thin(clock)
    session = ex.login("", "alice", "pw")
    iid = future_id(ex, "rb")
    ask = levels(ex.depth(iid), "Ask")[0][0]
    available = takeable(ex, iid, clock.t, True, ask)
    fok = {"TimeCondition": "1", "VolumeCondition": "3"}
    events = ex.insert_order(session, order(iid, "0", "0", ask, available + 1, **fok))
    assert kinds(events) == [("RtnOrder", "a"), ("RtnOrder", "3"), ("RtnOrder", "5")]
    events = ex.insert_order(session, order(iid, "0", "0", ask, available, **fok))
    assert sum(t["Volume"] for t in trades(events)) == available
    assert last_order(events)["OrderStatus"] == "0"


def test_min_volume_condition(clock):
    ex = _thin(clock)
    session = ex.login("", "alice", "pw")
    iid = future_id(ex, "rb")
    ask = levels(ex.depth(iid), "Ask")[0][0]
    available = takeable(ex, iid, clock.t, True, ask)
    mv = {"TimeCondition": "1", "VolumeCondition": "2", "MinVolume": available + 1}
    events = ex.insert_order(session, order(iid, "0", "0", ask, available + 2, **mv))
    assert trades(events) == []


def test_cancel_by_sys_id_and_by_order_ref(ex, session, clock):
    iid = future_id(ex, "m")
    low = ex.depth(iid)["LowerLimitPrice"]
    first = last_order(ex.insert_order(session, order(iid, "0", "0", low, 1)))
    second = last_order(ex.insert_order(session, order(iid, "0", "0", low, 1)))
    assert (first["OrderRef"], second["OrderRef"]) == ("1", "2")  # allocated
    events = ex.cancel_order(
        session, {"OrderSysID": first["OrderSysID"], "ExchangeID": "DCE", "ActionFlag": "0"}
    )
    assert kinds(events) == [("RtnOrder", "5")]
    assert events[0].body["CancelTime"] == "10:00:00"
    events = ex.cancel_order(session, {
        "FrontID": second["FrontID"], "SessionID": second["SessionID"],
        "OrderRef": second["OrderRef"], "InstrumentID": iid, "ActionFlag": "0",
    })
    assert kinds(events) == [("RtnOrder", "5")]
    assert [o["OrderStatus"] for o in ex.query(session, "ReqQryOrder", {})] == ["5", "5"]


def test_order_refs_are_per_session(ex, session):
    iid = future_id(ex, "m")
    low = ex.depth(iid)["LowerLimitPrice"]
    ex.insert_order(session, order(iid, "0", "0", low, 1, OrderRef="5"))
    with pytest.raises(OrderRejected) as info:
        ex.insert_order(session, order(iid, "0", "0", low, 1, OrderRef="5"))
    assert info.value.error_id == 22
    other = ex.login("9999", "alice", "secret")
    assert other.session_id != session.session_id
    assert other.rsp_user_login()["MaxOrderRef"] == "5"
    ex.insert_order(other, order(iid, "0", "0", low, 1, OrderRef="5"))  # fine elsewhere
