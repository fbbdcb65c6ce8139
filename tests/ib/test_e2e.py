"""End to end: websocket client -> md / td servers (ib back end) -> ib-insync -> sim-tws."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ib.simtws import ACCOUNT, SimTws
from tests.support import ServerProcess
from wsbridge.client import Client, ClientError

USER, PASSWORD = "alice", "s3cret"
WAIT = 20.0
_refs = itertools.count(100)


def ib_config(app: str, tws_port: int) -> dict:
    return {"backend": "ib", "ib": {
        "port": tws_port, "client_id": 1 if app == "md" else 2,
        "users": [{"user_id": USER, "password": PASSWORD}],
        "reconnect_min": 0.2, "reconnect_max": 1.0,
    }}


@dataclass
class Stack:
    tws: SimTws
    md: ServerProcess
    td: ServerProcess


def start_stack(workdir: Path) -> Stack:
    tws = SimTws(workdir).start()
    md = ServerProcess("md", ib_config("md", tws.port), workdir).start()
    td = ServerProcess("td", ib_config("td", tws.port), workdir).start()
    return Stack(tws, md, td)


def stop_stack(stack: Stack) -> None:
    for process in (stack.md, stack.td):
        try:
            process.terminate()
        finally:
            process.kill()
    stack.tws.terminate()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    started = start_stack(tmp_path_factory.mktemp("ib-e2e"))
    yield started
    stop_stack(started)


@pytest.fixture
async def md(stack):
    client = await Client.connect(stack.md.url)
    await client.login(USER, PASSWORD)
    yield client
    await client.close()


@pytest.fixture
async def td(stack):
    client = await Client.connect(stack.td.url)
    await client.login(USER, PASSWORD)
    yield client
    await client.close()


async def quote(md: Client, instrument: str = "AAPL") -> dict:
    """The next quote of an instrument with both sides of the book."""
    await md.subscribe([instrument])
    msg = await md.next_push("RtnDepthMarketData", timeout=WAIT, where=lambda m: (
        m["DepthMarketData"]["InstrumentID"] == instrument
        and m["DepthMarketData"]["AskPrice1"] > 0 and m["DepthMarketData"]["BidPrice1"] > 0))
    return msg["DepthMarketData"]


def balanced(account: dict) -> bool:
    return account["Balance"] == pytest.approx(
        account["PreBalance"] + account["CloseProfit"] + account["PositionProfit"]
        - account["Commission"], abs=1e-3)


async def settled_account(td: Client) -> dict:
    """TradingAccount once TWS's account values include the last fill.

    Commission adds up the fills' commission reports at once, while TWS sends account
    values when it gets to it (every few minutes on a real TWS): until then Balance does
    not yet show the commission and the CTP identity is off by it.
    """
    async with asyncio.timeout(WAIT):
        while not balanced(account := (await td.query("ReqQryTradingAccount"))[0]):
            await asyncio.sleep(0.1)
    return account


def order(instrument: str, direction: str, price: float, volume: int, **extra) -> dict:
    return {"InstrumentID": instrument, "Direction": direction,
            "CombOffsetFlag": "0" if direction == "0" else "1", "CombHedgeFlag": "1",
            "OrderPriceType": "2", "LimitPrice": round(price, 2),
            "VolumeTotalOriginal": volume, "TimeCondition": "3", "VolumeCondition": "1",
            "ContingentCondition": "1", "OrderRef": str(next(_refs)), **extra}


def mine(ref: str):
    return lambda m: (m.get("Order") or m.get("Trade") or {}).get("OrderRef") == ref


async def test_login_checks_the_bridge_credentials(stack):
    for url in (stack.md.url, stack.td.url):
        async with await Client.connect(url) as client:
            with pytest.raises(ClientError) as info:
                await client.login(USER, "wrong")
            assert info.value.error_id == 3
            with pytest.raises(ClientError) as info:
                await client.login("mallory", PASSWORD)
            assert info.value.error_id == 3
    async with await Client.connect(stack.td.url) as client:
        body = await client.login(USER, PASSWORD)
        assert (body["UserID"], body["FrontID"], body["BrokerID"]) == (USER, 2, "IB")
        (investor,) = await client.query("ReqQryInvestor")
        assert investor["InvestorID"] == ACCOUNT


async def test_quotes_stream_for_us_and_hk_stocks(md):
    replies = await md.subscribe(["AAPL", "00700", "NOPE"])
    errors = {r["SpecificInstrument"]["InstrumentID"]: r["RspInfo"]["ErrorID"]
              for r in replies}
    assert errors == {"AAPL": 0, "00700": 0, "NOPE": 16}
    aapl = await quote(md, "AAPL")
    assert aapl["ExchangeID"] == "NASDAQ" and aapl["BidPrice1"] < aapl["AskPrice1"]
    assert aapl["LastPrice"] > 0 and aapl["Volume"] > 0 and aapl["UpdateTime"]
    hk = await quote(md, "00700")
    assert hk["ExchangeID"] == "HKEX" and hk["ExchangeInstID"] == "700"


async def test_limit_order_fills_into_a_position(md, td):
    ask = (await quote(md))["AskPrice1"]
    (before,) = await td.query("ReqQryTradingAccount") or [None]
    body = order("AAPL", "0", ask * 1.01, 10)
    await td.send("ReqOrderInsert", body)
    done = await td.next_push("RtnOrder", timeout=WAIT, where=lambda m: (
        mine(body["OrderRef"])(m) and m["Order"]["OrderStatus"] == "0"))
    row = done["Order"]
    assert (row["VolumeTraded"], row["VolumeTotal"], row["OrderSubmitStatus"]) == (10, 0, "3")
    assert row["OrderSysID"] and row["FrontID"] == 2 and row["InvestorID"] == ACCOUNT
    trade = (await td.next_push("RtnTrade", timeout=WAIT, where=mine(body["OrderRef"])))["Trade"]
    assert (trade["InstrumentID"], trade["ExchangeID"], trade["Direction"]) == (
        "AAPL", "NASDAQ", "0")
    assert trade["Volume"] == 10 and trade["Price"] <= round(ask * 1.01, 2)
    assert trade["OrderSysID"] == row["OrderSysID"]
    assert trade["Commission"] == pytest.approx(0.05) and trade["CommissionCurrency"] == "USD"
    positions = await td.query("ReqQryInvestorPosition", {"InstrumentID": "AAPL"})
    assert positions and positions[0]["PosiDirection"] == "2" and positions[0]["Position"] >= 10
    account = await settled_account(td)
    assert account["AccountID"] == ACCOUNT and account["CurrencyID"] == "USD"
    assert account["Commission"] >= 0.05 and account["CurrMargin"] > 0
    if before is not None:
        assert account["Commission"] == pytest.approx(before["Commission"] + 0.05)
    orders = await td.query("ReqQryOrder", {"OrderSysID": row["OrderSysID"]})
    assert [o["OrderStatus"] for o in orders] == ["0"]
    trades = await td.query("ReqQryTrade", {"TradeID": trade["TradeID"]})
    assert [t["Volume"] for t in trades] == [10]


async def test_a_resting_order_is_cancelled(md, td):
    bid = (await quote(md))["BidPrice1"]
    body = order("AAPL", "0", bid * 0.9, 5)
    await td.send("ReqOrderInsert", body)
    resting = await td.next_push("RtnOrder", timeout=WAIT, where=lambda m: (
        mine(body["OrderRef"])(m) and m["Order"]["OrderStatus"] == "3"))
    login = resting["Order"]
    action = {"OrderRef": body["OrderRef"], "FrontID": login["FrontID"],
              "SessionID": login["SessionID"], "InstrumentID": "AAPL", "ActionFlag": "0"}
    await td.send("ReqOrderAction", action)
    cancelled = await td.next_push("RtnOrder", timeout=WAIT, where=lambda m: (
        mine(body["OrderRef"])(m) and m["Order"]["OrderStatus"] == "5"))
    assert cancelled["Order"]["VolumeTraded"] == 0 and cancelled["Order"]["CancelTime"]
    (again,) = await td.call("ReqOrderAction", {"OrderSysID": login["OrderSysID"],
                                                "ActionFlag": "0"})
    assert again["RspInfo"]["ErrorID"] == 26
    (unknown,) = await td.call("ReqOrderAction", {"OrderSysID": "424242", "ActionFlag": "0"})
    assert unknown["RspInfo"]["ErrorID"] == 25


async def test_rejections_carry_ctp_error_ids_and_ib_text(md, td):
    quote_ = await quote(md)
    cases = [
        (order("NOPE", "0", 10.0, 1), 16),
        (order("AAPL", "0", quote_["AskPrice1"], 90_000), 31),
        (order("AAPL", "1", quote_["BidPrice1"], 50_000), 30),
        (order("AAPL", "0", quote_["BidPrice1"] + 0.001, 1, LimitPrice=round(
            quote_["BidPrice1"], 2) + 0.001), 15),
        (order("AAPL", "0", 0.0, 1, LimitPrice=0.0), 15),
    ]
    for body, error_id in cases:
        (reply,) = await td.call("ReqOrderInsert", body, timeout=WAIT)
        assert reply["MsgType"] == "RspOrderInsert"
        assert reply["RspInfo"]["ErrorID"] == error_id, reply
    money = cases[1][0]
    pushed = []  # RtnOrder (rejected) then ErrRtnOrderInsert, as for an exchange rejection
    while not pushed or pushed[-1]["MsgType"] != "ErrRtnOrderInsert":
        pushed.append(await td.next_push(("RtnOrder", "ErrRtnOrderInsert"), timeout=WAIT,
                                         where=lambda m: (m.get("Order") or m.get(
                                             "InputOrder"))["OrderRef"] == money["OrderRef"]))
    err = pushed[-1]
    assert err["RspInfo"]["ErrorID"] == 31 and "IB 201" in err["RspInfo"]["ErrorMsg"]
    last = pushed[-2]["Order"]
    assert (last["OrderSubmitStatus"], last["OrderStatus"]) == ("4", "5")
    assert "EQUITY WITH LOAN" in last["StatusMsg"]


async def test_queries_ib_answers(md, td):
    (aapl,) = await td.query("ReqQryInstrument", {"InstrumentID": "AAPL"})
    assert (aapl["ExchangeID"], aapl["ProductClass"], aapl["PriceTick"]) == (
        "NASDAQ", "4", 0.01)
    (hk,) = await td.query("ReqQryInstrument", {"InstrumentID": "00700"})
    assert (hk["ExchangeID"], hk["MinLimitOrderVolume"], hk["InstrumentName"]) == (
        "HKEX", 100, "腾讯控股")
    known = {i["InstrumentID"] for i in await td.query("ReqQryInstrument")}
    assert {"AAPL", "00700"} <= known
    (depth,) = await td.query("ReqQryDepthMarketData", {"InstrumentID": "AAPL"})
    assert depth["InstrumentID"] == "AAPL" and depth["AskPrice1"] > depth["BidPrice1"] > 0
    exchanges = {e["ExchangeID"] for e in await td.query("ReqQryExchange")}
    assert {"NASDAQ", "HKEX"} <= exchanges
    (confirm,) = await td.query("ReqSettlementInfoConfirm", {})
    assert confirm["InvestorID"] == ACCOUNT and confirm["ConfirmDate"]
    (reply,) = await td.call("ReqQryInstrument", {"InstrumentID": "NOPE"})
    assert reply["RspInfo"]["ErrorID"] == 16


async def test_requests_ib_has_no_equivalent_for_are_404(td):
    (reply,) = await td.call("ReqQryInvestorPositionDetail", {})
    assert reply["RspInfo"]["ErrorID"] == -404


async def test_tws_losing_ib_is_front_disconnected_and_quotes_resume(stack, md, td):
    await quote(md)
    stack.tws.toggle_link()  # TWS: 1100 connectivity between IB and TWS lost
    for client in (md, td):
        down = await client.next_push("FrontDisconnected", timeout=WAIT)
        assert down["RspInfo"]["ErrorID"] == 8 and "1100" in down["RspInfo"]["ErrorMsg"]
    (reply,) = await td.call("ReqQryTradingAccount", {}, timeout=WAIT)
    assert reply["RspInfo"]["ErrorID"] == 8
    stack.tws.toggle_link()  # 1101: restored, market data lost: the bridge resubscribes
    for client in (md, td):
        await client.next_push("FrontConnected", timeout=WAIT)
    tick = await md.next_push("RtnDepthMarketData", timeout=WAIT)
    assert tick["DepthMarketData"]["InstrumentID"] == "AAPL"
    assert await td.query("ReqQryTradingAccount")


async def test_tws_restart_is_survived_without_client_action(tmp_path):
    stack = start_stack(tmp_path)
    try:
        md = await Client.connect(stack.md.url)
        td = await Client.connect(stack.td.url)
        await md.login(USER, PASSWORD)
        await td.login(USER, PASSWORD)
        bid = (await quote(md))["BidPrice1"]
        body = order("AAPL", "0", bid * 0.9, 3)
        await td.send("ReqOrderInsert", body)
        resting = await td.next_push("RtnOrder", timeout=WAIT, where=lambda m: (
            mine(body["OrderRef"])(m) and m["Order"]["OrderStatus"] == "3"))
        sys_id = resting["Order"]["OrderSysID"]

        stack.tws.kill()
        for client in (md, td):
            down = await client.next_push("FrontDisconnected", timeout=WAIT)
            assert down["RspInfo"]["ErrorID"] == 8
        (reply,) = await td.call("ReqQryTradingAccount", {}, timeout=WAIT)
        assert reply["RspInfo"]["ErrorID"] == 8
        (reply,) = await td.call("ReqOrderInsert", order("AAPL", "0", bid, 1), timeout=WAIT)
        assert reply["RspInfo"]["ErrorID"] == 8

        stack.tws.restart()
        for client in (md, td):
            up = await client.next_push("FrontConnected", timeout=WAIT)
            assert up["RspInfo"]["ErrorID"] == 0
        tick = await md.next_push("RtnDepthMarketData", timeout=WAIT)
        assert tick["DepthMarketData"]["InstrumentID"] == "AAPL"
        (still,) = await td.query("ReqQryOrder", {"OrderSysID": sys_id})
        assert still["OrderStatus"] == "3" and still["OrderRef"] == body["OrderRef"]
        await td.send("ReqOrderAction", {"OrderSysID": sys_id, "ActionFlag": "0"})
        await td.next_push("RtnOrder", timeout=WAIT, where=lambda m: (
            m["Order"]["OrderSysID"] == sys_id and m["Order"]["OrderStatus"] == "5"))
        await md.close()
        await td.close()
    finally:
        stop_stack(stack)




async def test_a_cancel_tws_refuses_is_err_rtn_order_action(tmp_path):
    # A TWS that lost its state (no journal) no longer knows an order the bridge saw rest.
    tws = SimTws(tmp_path, journal=False).start()
    td_server = ServerProcess("td", ib_config("td", tws.port), tmp_path).start()
    try:
        td = await Client.connect(td_server.url)
        await td.login(USER, PASSWORD)
        (depth,) = await td.query("ReqQryDepthMarketData", {"InstrumentID": "AAPL"})
        body = order("AAPL", "0", depth["BidPrice1"] * 0.9, 2)
        await td.send("ReqOrderInsert", body)
        resting = await td.next_push("RtnOrder", timeout=WAIT, where=lambda m: (
            mine(body["OrderRef"])(m) and m["Order"]["OrderStatus"] == "3"))
        sys_id = resting["Order"]["OrderSysID"]
        tws.kill()
        await td.next_push("FrontDisconnected", timeout=WAIT)
        tws.restart()
        await td.next_push("FrontConnected", timeout=WAIT)
        (reply,) = await td.call("ReqOrderAction", {"OrderSysID": sys_id, "ActionFlag": "0"},
                                 timeout=WAIT)
        assert reply["MsgType"] == "RspOrderAction"
        assert reply["RspInfo"]["ErrorID"] == 25 and "IB 10147" in reply["RspInfo"]["ErrorMsg"]
        pushed = await td.next_push("ErrRtnOrderAction", timeout=WAIT)
        action = pushed["OrderAction"]
        assert (action["OrderSysID"], action["OrderRef"], action["OrderActionStatus"]) == (
            sys_id, body["OrderRef"], "c")
        assert pushed["RspInfo"]["ErrorID"] == 25
        await td.close()
    finally:
        td_server.terminate()
        tws.terminate()
