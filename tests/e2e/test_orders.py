"""Orders on the sim through a real td server: lifecycle, order types, money, rejections."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sim_config
from tests.e2e.trading import Trader, order_fields
from tests.support import ServerProcess
from wsbridge.client import Client

BUY, SELL = "0", "1"
OPEN, CLOSE, CLOSE_TODAY, CLOSE_YESTERDAY = "0", "1", "3", "4"


@pytest.fixture
async def trader(td_url: str):
    t = await Trader.connect(td_url)
    yield t
    await t.close()


def approx(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def assert_account_identities(acct: dict) -> None:
    assert approx(acct["Balance"], acct["PreBalance"] + acct["Deposit"] - acct["Withdraw"]
                  + acct["CloseProfit"] + acct["PositionProfit"] - acct["Commission"])
    assert approx(acct["Available"], acct["Balance"] - acct["CurrMargin"]
                  - acct["FrozenMargin"] - acct["FrozenCommission"])


async def test_limit_buy_at_the_md_ask_fills_at_that_price(trader: Trader, md_url: str) -> None:
    rb = await trader.instrument("rb")
    async with await Client.connect(md_url) as md:
        await md.login("agree")
        await md.subscribe([rb["InstrumentID"]])
        await md.next_push("RtnDepthMarketData")  # the snapshot sent on subscribe
        for _attempt in range(3):
            tick = (await md.next_push("RtnDepthMarketData"))["DepthMarketData"]
            result = await trader.place(rb, BUY, OPEN, tick["AskPrice1"], 1)
            (trade,) = result["trades"]
            assert trade["Price"] <= tick["AskPrice1"]  # never worse than the quote shown
            if trade["Price"] == tick["AskPrice1"]:
                break  # else the order crossed a tick boundary on a loaded machine: again
        assert trade["Price"] == tick["AskPrice1"] and trade["Volume"] == 1
    assert result["error"] is None
    statuses = [(o["OrderSubmitStatus"], o["OrderStatus"]) for o in result["orders"]]
    assert statuses[0] == ("0", "a")  # submitted, status unknown
    assert ("3", "3") in statuses  # accepted, queueing
    assert statuses[-1][1] == "0"  # all traded
    final = result["orders"][-1]
    assert final["VolumeTraded"] == 1 and final["VolumeTotal"] == 0
    assert trade["OrderSysID"] == final["OrderSysID"] and trade["TradeID"]


async def test_fill_books_margin_commission_and_position(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    before = await trader.account()
    depth = await trader.depth(rb)
    result = await trader.place(rb, BUY, OPEN, depth["UpperLimitPrice"], 2)
    assert sum(t["Volume"] for t in result["trades"]) == 2
    after = await trader.account()
    assert after["CurrMargin"] > before["CurrMargin"]
    assert after["Commission"] > before["Commission"]
    assert after["FrozenMargin"] == 0 and after["FrozenCommission"] == 0
    assert_account_identities(after)
    (position,) = [p for p in await trader.positions(rb) if p["Position"]]
    assert position["PosiDirection"] == "2" and position["Position"] == 2
    assert position["TodayPosition"] == 2 and position["YdPosition"] == 0
    details = await trader.client.query("ReqQryInvestorPositionDetail",
                                        {"InstrumentID": rb["InstrumentID"]})
    assert sum(d["Volume"] for d in details) == 2
    trades = await trader.client.query("ReqQryTrade", {})
    orders = await trader.client.query("ReqQryOrder", {})
    assert sum(t["Volume"] for t in trades) == 2
    assert orders[-1]["OrderStatus"] == "0" and orders[-1]["OrderRef"] == result["ref"]


async def test_resting_order_freezes_margin_and_cancel_releases_it(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    result = await trader.place(rb, BUY, OPEN, depth["LowerLimitPrice"], 3)
    resting = result["orders"][-1]
    assert resting["OrderStatus"] == "3" and not result["trades"]
    frozen = await trader.account()
    assert frozen["FrozenMargin"] > 0
    assert_account_identities(frozen)
    (answer,) = await trader.cancel(resting)
    assert answer["MsgType"] == "RtnOrder" and answer["Order"]["OrderStatus"] == "5"
    assert answer["Order"]["VolumeTraded"] == 0
    released = await trader.account()
    assert released["FrozenMargin"] == 0 and released["FrozenCommission"] == 0
    assert approx(released["Available"], frozen["Available"] + frozen["FrozenMargin"]
                  + frozen["FrozenCommission"])
    # A canceled order cannot be canceled again: 26.
    again, err = await trader.cancel(resting)
    assert again["MsgType"] == "RspOrderAction" and again["RspInfo"]["ErrorID"] == 26
    assert err["MsgType"] == "ErrRtnOrderAction" and err["RspInfo"]["ErrorID"] == 26
    assert err["OrderAction"]["OrderSysID"] == resting["OrderSysID"]


async def test_market_fak_and_fok(trader: Trader) -> None:
    m = await trader.instrument("m")
    market = await trader.place(m, BUY, OPEN, 0.0, 1, price_type="1", time_cond="1")
    assert market["orders"][-1]["OrderStatus"] == "0" and market["trades"]
    depth = await trader.depth(m)
    # More than the whole visible book at that price, within the per-order maximum.
    big = min(m["MaxLimitOrderVolume"], sum(depth[f"AskVolume{i}"] for i in range(1, 6)) + 200)
    fak = await trader.place(m, BUY, OPEN, depth["AskPrice1"], big, time_cond="1",
                             volume_cond="1")
    final = fak["orders"][-1]
    assert final["OrderStatus"] == "5" and 0 < final["VolumeTraded"] < big
    assert sum(t["Volume"] for t in fak["trades"]) == final["VolumeTraded"]
    fok = await trader.place(m, BUY, OPEN, depth["AskPrice1"], big, time_cond="1",
                             volume_cond="3")
    assert fok["orders"][-1]["OrderStatus"] == "5" and fok["trades"] == []
    depth = await trader.depth(m)
    # The FAK took the first level; the rest of the book is still there for a small FOK.
    small = await trader.place(m, BUY, OPEN, depth["UpperLimitPrice"], 1, time_cond="1",
                               volume_cond="3")
    assert small["orders"][-1]["OrderStatus"] == "0" and len(small["trades"]) == 1


async def test_shfe_close_today_and_yesterday_rules(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    opened = await trader.place(rb, BUY, OPEN, depth["UpperLimitPrice"], 2)
    assert opened["orders"][-1]["OrderStatus"] == "0"
    low = depth["LowerLimitPrice"]
    too_many = await trader.place(rb, SELL, CLOSE_TODAY, low, 3)
    assert too_many["error"]["RspInfo"]["ErrorID"] == 30  # more than the whole position
    no_yesterday = await trader.place(rb, SELL, CLOSE_YESTERDAY, low, 1)
    assert no_yesterday["error"]["RspInfo"]["ErrorID"] == 51
    closed = await trader.place(rb, SELL, CLOSE_TODAY, low, 2)
    assert closed["orders"][-1]["OrderStatus"] == "0"
    assert sum(t["Volume"] for t in closed["trades"]) == 2
    assert all(t["OffsetFlag"] == CLOSE_TODAY for t in closed["trades"])
    assert not [p for p in await trader.positions(rb) if p["Position"]]
    acct = await trader.account()
    assert acct["CloseProfit"] != 0 or acct["Commission"] > 0
    assert_account_identities(acct)


async def test_close_on_other_exchanges_and_overclose(trader: Trader) -> None:
    m = await trader.instrument("m")
    depth = await trader.depth(m)
    await trader.place(m, BUY, OPEN, depth["UpperLimitPrice"], 1)
    over = await trader.place(m, SELL, CLOSE, depth["LowerLimitPrice"], 5)
    assert over["error"]["RspInfo"]["ErrorID"] == 30
    closed = await trader.place(m, SELL, CLOSE, depth["LowerLimitPrice"], 1)
    assert closed["orders"][-1]["OrderStatus"] == "0"


async def test_rejections_carry_ctp_error_ids(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    price = depth["AskPrice1"]
    unknown = dict(rb, InstrumentID="zz9999")
    rejected = await trader.place(unknown, BUY, OPEN, price, 1)
    rsp = rejected["error"]
    assert rsp["MsgType"] == "RspOrderInsert" and rsp["RspInfo"]["ErrorID"] == 16
    assert rsp["InputOrder"]["InstrumentID"] == "zz9999" and rsp["IsLast"] is True
    err = rejected["err_rtn"] or await trader.client.next_push("ErrRtnOrderInsert")
    assert err["RspInfo"]["ErrorID"] == 16 and err["InputOrder"]["OrderRef"] == rejected["ref"]

    outside = await trader.place(rb, BUY, OPEN, depth["UpperLimitPrice"] + 10 * rb["PriceTick"],
                                 1)
    assert outside["error"]["RspInfo"]["ErrorID"] == 15
    assert "limit" in outside["error"]["RspInfo"]["ErrorMsg"].lower()
    for volume in (0, -1):
        bad = await trader.place(rb, BUY, OPEN, price, volume)
        assert bad["error"]["RspInfo"]["ErrorID"] == 15
    off_tick = await trader.place(rb, BUY, OPEN, price + rb["PriceTick"] / 2, 1)
    assert off_tick["error"]["RspInfo"]["ErrorID"] == 15

    resting = await trader.place(rb, BUY, OPEN, depth["LowerLimitPrice"], 1)
    ref = resting["ref"]
    await trader.client.send("ReqOrderInsert", order_fields(
        rb, BUY, OPEN, depth["LowerLimitPrice"], 1, ref))
    duplicate = await trader.collect(ref)
    assert duplicate["error"]["RspInfo"]["ErrorID"] == 22
    await trader.cancel(resting["orders"][-1])

    ghost = dict(resting["orders"][-1], OrderSysID="does-not-exist")
    answer, err = await trader.cancel(ghost)
    assert answer["MsgType"] == "RspOrderAction" and answer["RspInfo"]["ErrorID"] == 25
    assert err["RspInfo"]["ErrorID"] == 25


async def test_insufficient_money(trader: Trader) -> None:
    ifx = await trader.instrument("IF")
    depth = await trader.depth(ifx)
    volume = ifx["MaxLimitOrderVolume"]
    errors = []
    for _ in range(100):
        result = await trader.place(ifx, BUY, OPEN, depth["LowerLimitPrice"], volume)
        if result["error"]:
            errors.append(result["error"]["RspInfo"]["ErrorID"])
            break
    assert errors == [31]
    acct = await trader.account()
    assert acct["Available"] >= 0
    assert_account_identities(acct)


async def test_yesterday_positions_after_the_day_rolls(tmp_path) -> None:
    """Positions opened on one trading day are yesterday's on the next (SHFE rules)."""
    config = sim_config(tmp_path)
    config["sim"]["utc_offset_minutes"] = -12 * 60  # UTC-12, then UTC+12: a day later
    server = ServerProcess("td", config, tmp_path, "yesterday").start()
    try:
        trader = await Trader.connect(server.url, "overnight", "pw")
        rb = await trader.instrument("rb")
        depth = await trader.depth(rb)
        opened = await trader.place(rb, BUY, OPEN, depth["UpperLimitPrice"], 3)
        assert opened["orders"][-1]["OrderStatus"] == "0"
        day_one = trader.login["TradingDay"]
        await trader.close()
        assert server.terminate() == 0
    finally:
        server.kill()
    config["sim"]["utc_offset_minutes"] = 12 * 60
    server = ServerProcess("td", config, tmp_path, "today").start()
    try:
        trader = await Trader.connect(server.url, "overnight", "pw")
        assert trader.login["TradingDay"] > day_one
        rb = await trader.instrument("rb")
        (position,) = [p for p in await trader.positions(rb) if p["Position"]]
        assert position["PositionDate"] == "2" and position["YdPosition"] == 3
        assert position["TodayPosition"] == 0
        depth = await trader.depth(rb)
        low = depth["LowerLimitPrice"]
        no_today = await trader.place(rb, SELL, CLOSE_TODAY, low, 1)
        assert no_today["error"]["RspInfo"]["ErrorID"] == 50
        yesterday = await trader.place(rb, SELL, CLOSE_YESTERDAY, low, 1)
        assert yesterday["orders"][-1]["OrderStatus"] == "0"
        close = await trader.place(rb, SELL, CLOSE, low, 1)  # SHFE: close = yesterday's
        assert close["orders"][-1]["OrderStatus"] == "0"
        too_many = await trader.place(rb, SELL, CLOSE_YESTERDAY, low, 2)
        assert too_many["error"]["RspInfo"]["ErrorID"] in (30, 51)
        (position,) = [p for p in await trader.positions(rb) if p["Position"]]
        assert position["YdPosition"] == 3 and position["Position"] == 1
        assert_account_identities(await trader.account())
        await trader.close()
    finally:
        server.kill()
