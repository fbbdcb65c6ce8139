"""End to end: websocket client -> md/td servers (futu back end) -> futu-api -> sim-opend."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import pytest

from tests.futu.support import (
    SimOpend,
    exchange_packets,
    futu_config,
    limit_price,
    mine,
    order,
    request,
    response,
)
from tests.support import ServerProcess
from wsbridge.client import Client, ClientError
from wsbridge.simulators.opend import protos


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("futu-e2e")
    with SimOpend(workdir) as opend:
        config = futu_config(opend.port)
        with ServerProcess("md", config, workdir) as md, \
                ServerProcess("td", config, workdir) as td:
            yield {"opend": opend, "md": md, "td": td, "workdir": workdir}


@pytest.fixture
async def td(stack):
    client = await Client.connect(stack["td"].url)
    client.session = await client.login("alice", "secret")
    yield client
    await client.close()


@pytest.fixture
async def md(stack):
    client = await Client.connect(stack["md"].url)
    await client.login("alice", "secret")
    yield client
    await client.close()


async def test_login_checks_the_configured_users(stack):
    async with await Client.connect(stack["td"].url) as client:
        with pytest.raises(ClientError) as bad:
            await client.login("alice", "wrong")
        assert bad.value.error_id == 3
        with pytest.raises(ClientError) as unknown:
            await client.login("mallory", "secret")
        assert unknown.value.error_id == 3
        rsp = await client.login("alice", "secret")
        assert rsp["UserID"] == "alice" and rsp["FrontID"] == 1 and rsp["SessionID"]
    async with await Client.connect(stack["md"].url) as client:
        with pytest.raises(ClientError) as bad:
            await client.login("alice", "")
        assert bad.value.error_id == 3


async def test_subscribe_hk_quotes(md):
    answers = await md.subscribe(["00700", "HK.09988", "99999"])
    errors = {a["SpecificInstrument"]["InstrumentID"]: a["RspInfo"]["ErrorID"] for a in answers}
    assert errors["00700"] == 0 and errors["HK.09988"] == 0
    assert errors["99999"] == 16  # OpenD: unknown stock
    tick = await md.next_push("RtnDepthMarketData", where=lambda m: (
        m["DepthMarketData"]["InstrumentID"] == "00700"
        and m["DepthMarketData"]["AskPrice5"] > 0))
    depth = tick["DepthMarketData"]
    assert depth["ExchangeID"] == "HKEX" and depth["LastPrice"] > 0 and depth["Volume"] > 0
    bids = [depth[f"BidPrice{k}"] for k in range(1, 6)]
    asks = [depth[f"AskPrice{k}"] for k in range(1, 6)]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert depth["TradingDay"] and depth["UpdateTime"]
    alias = await md.next_push("RtnDepthMarketData", where=lambda m: (
        m["DepthMarketData"]["InstrumentID"] == "HK.09988"))
    assert alias["DepthMarketData"]["ExchangeID"] == "HKEX"


async def test_limit_order_fills_then_position_and_funds(td):
    before = (await td.query("ReqQryTradingAccount"))[0]
    price = await limit_price(td, "00700", 1.02)
    await td.send("ReqOrderInsert", order("101", price, 200))
    states = []
    while not states or states[-1][0] != "0":
        pushed = await td.next_push("RtnOrder", where=mine(td, "101"))
        states.append((pushed["Order"]["OrderStatus"], pushed["Order"]["VolumeTraded"]))
    assert len(set(states)) == len(states)  # each state reported once, in order
    o = pushed["Order"]
    assert o["FrontID"] == td.session["FrontID"] and o["OrderSysID"]
    assert o["VolumeTraded"] == 200 and o["VolumeTotal"] == 0 and o["ExchangeID"] == "HKEX"
    trade = await td.next_push("RtnTrade", where=mine(td, "101"))
    t = trade["Trade"]
    assert t["OrderSysID"] == o["OrderSysID"] and t["Price"] <= price
    assert t["Direction"] == "0" and t["InstrumentID"] == "00700"
    positions = await td.query("ReqQryInvestorPosition", {"InstrumentID": "00700"})
    assert positions and positions[0]["ExchangeID"] == "HKEX"
    assert positions[0]["PosiDirection"] == "2" and positions[0]["Position"] >= 200
    after = (await td.query("ReqQryTradingAccount"))[0]
    assert after["CurrencyID"] == "HKD" and after["AccountID"] == before["AccountID"]
    assert after["Available"] < before["Available"]
    orders = await td.query("ReqQryOrder", {"OrderSysID": o["OrderSysID"]})
    assert [x["OrderStatus"] for x in orders] == ["0"] and orders[0]["OrderRef"] == "101"
    trades = await td.query("ReqQryTrade", {"InstrumentID": "00700"})
    assert t["TradeID"] in {x["TradeID"] for x in trades}
    assert {x["OrderRef"] for x in trades if x["TradeID"] == t["TradeID"]} == {"101"}


async def test_cancel_a_resting_order(td):
    price = await limit_price(td, "00700", 0.9)
    await td.send("ReqOrderInsert", order("201", price))
    resting = await td.next_push("RtnOrder", where=lambda m: mine(td, "201")(m)
                                 and m["Order"]["OrderStatus"] == "3")
    sys_id = resting["Order"]["OrderSysID"]
    await td.send("ReqOrderAction", {"OrderRef": "201", "FrontID": td.session["FrontID"],
                                     "SessionID": td.session["SessionID"], "ActionFlag": "0",
                                     "InstrumentID": "00700", "ExchangeID": "HKEX"})
    canceled = await td.next_push("RtnOrder", where=lambda m: mine(td, "201")(m)
                                  and m["Order"]["OrderStatus"] == "5")
    assert canceled["Order"]["OrderSysID"] == sys_id and canceled["Order"]["VolumeTraded"] == 0
    again = await td.call("ReqOrderAction", {"OrderSysID": sys_id, "ActionFlag": "0"})
    assert again[0]["RspInfo"]["ErrorID"] == 26
    pushed = await td.next_push("ErrRtnOrderAction")
    assert pushed["RspInfo"]["ErrorID"] == 26
    unknown = await td.call("ReqOrderAction", {"OrderSysID": "424242", "ActionFlag": "0"})
    assert unknown[0]["RspInfo"]["ErrorID"] == 25
    assert "Futu" in unknown[0]["RspInfo"]["ErrorMsg"]


@pytest.mark.parametrize(("ref", "body", "error_id"), [
    ("301", {"TimeCondition": "4"}, 15),  # GTD: Futu has none
    ("302", {"InstrumentID": "99999"}, 16),
    ("303", {"VolumeTotalOriginal": 150}, 15),  # not a board lot
    ("304", {"VolumeTotalOriginal": 10_000_000}, 31),
    ("305", {"OrderPriceType": "3"}, 15),
])
async def test_rejected_orders(td, ref, body, error_id):
    price = await limit_price(td, "00700", 0.95)  # within the day's price limits
    rows = await td.call("ReqOrderInsert", {**order(ref, price), **body})
    assert rows[0]["MsgType"] == "RspOrderInsert"
    assert rows[0]["RspInfo"]["ErrorID"] == error_id
    assert rows[0]["InputOrder"]["OrderRef"] == ref
    pushed = await td.next_push("ErrRtnOrderInsert",
                                where=lambda m: m["InputOrder"]["OrderRef"] == ref)
    assert pushed["RspInfo"]["ErrorID"] == error_id


async def test_duplicate_order_ref(td):
    price = await limit_price(td, "00700", 0.9)
    await td.send("ReqOrderInsert", order("401", price))
    await td.next_push("RtnOrder", where=mine(td, "401"))
    rows = await td.call("ReqOrderInsert", order("401", price))
    assert rows[0]["RspInfo"]["ErrorID"] == 22


async def test_queries(td):
    (aapl,) = await td.query("ReqQryInstrument", {"InstrumentID": "AAPL"})
    assert aapl["ExchangeID"] == "NASDAQ" and aapl["IsTrading"] == 1
    assert aapl["PriceTick"] == 0.01 and aapl["ProductClass"] == "4"
    everything = await td.query("ReqQryInstrument")
    assert {(i["InstrumentID"], i["ExchangeID"]) for i in everything} >= {
        ("00700", "HKEX"), ("AAPL", "NASDAQ"), ("600000", "SSE"), ("000001", "SZSE")}
    exchanges = {x["ExchangeID"] for x in await td.query("ReqQryExchange")}
    assert {"HKEX", "NASDAQ", "SSE", "SZSE"} <= exchanges
    (usd,) = await td.query("ReqQryTradingAccount", {"CurrencyID": "USD"})
    assert usd["CurrencyID"] == "USD" and usd["Balance"] > 0
    (investor,) = await td.query("ReqQryInvestor")
    assert investor["InvestorID"] == usd["AccountID"]
    codes = await td.query("ReqQryTradingCode")
    assert {c["ExchangeID"] for c in codes} >= {"HKEX", "NASDAQ"}
    assert {c["ClientID"] for c in codes} == {investor["InvestorID"]}
    (confirm,) = await td.query("ReqSettlementInfoConfirm", {})
    assert confirm["InvestorID"] == investor["InvestorID"] and confirm["ConfirmDate"]
    no_instrument = await td.call("ReqQryDepthMarketData", {})
    assert no_instrument[0]["RspInfo"]["ErrorID"] == -400
    assert "InstrumentID" in no_instrument[0]["Detail"]
    unsupported = await td.call("ReqQryInstrumentMarginRate", {"InstrumentID": "00700"})
    assert unsupported[0]["RspInfo"]["ErrorID"] == -404


async def test_real_account_is_unlocked_with_the_configured_password(stack, td):
    config = futu_config(stack["opend"].port, trd_env="REAL", unlock_password="123456")
    with ServerProcess("td", config, stack["workdir"], name="td-real") as server:
        async with await Client.connect(server.url) as real:
            real.session = await real.login("alice", "secret")
            assert "REAL" in real.session["SysVersion"]
            price = await limit_price(real, "AAPL", 1.02)
            await real.send("ReqOrderInsert", order("1", price, 10, instrument="AAPL",
                                                    exchange="NASDAQ"))
            trade = await real.next_push("RtnTrade", where=mine(real, "1"))
            assert trade["Trade"]["ExchangeID"] == "NASDAQ"
        log = server.log()
        assert "123456" not in log and "e10adc3949ba59abbe56e057f20f883e" not in log
    # OpenD pushed that REAL order to the SIMULATE server too: it must not reach its clients.
    # The SIMULATE server handles pushes in order, so any leak arrives before this order's.
    real_order = trade["Trade"]["OrderSysID"]
    await td.send("ReqOrderInsert", order("501", await limit_price(td, "00700", 0.9)))
    seen = []
    while True:
        pushed = await td.next_push(("RtnOrder", "RtnTrade"))
        seen.append((pushed.get("Order") or pushed["Trade"])["OrderSysID"])
        if mine(td, "501")(pushed):
            break
    assert real_order not in seen


def held_by_servers(port: int) -> list[str]:
    """QUOTE codes held by every other OpenD connection (one entry per connection)."""
    init = request(protos.INIT_CONNECT, 1, clientVer=100, clientID="t", packetEncAlgo=-1)
    ask = request(protos.QOT_GET_SUB_INFO, 2, isReqAllConn=True)
    _, answer = exchange_packets(port, init, ask, count=2)
    return [f"{sec.market}:{sec.code}" for conn in response(answer).s2c.connSubInfoList
            if not conn.isOwnConnData for sub in conn.subInfoList if sub.subType == 1
            for sec in sub.securityList]


async def test_one_upstream_subscription_per_instrument(stack):
    """Two md clients on MSFT: OpenD sees one subscription, gone when both leave."""
    port = stack["opend"].port
    msft = "11:MSFT"

    async def eventually(predicate) -> None:
        async with asyncio.timeout(15):
            while not predicate(await asyncio.to_thread(held_by_servers, port)):
                await asyncio.sleep(0.1)

    first = await Client.connect(stack["md"].url)
    second = await Client.connect(stack["md"].url)
    for client in (first, second):
        await client.login("alice", "secret")
        await client.subscribe(["MSFT"])
        await client.next_push("RtnDepthMarketData")
    assert held_by_servers(port).count(msft) == 1
    await first.unsubscribe(["MSFT"])
    assert held_by_servers(port).count(msft) == 1  # the second still wants it
    await second.close()  # leaving releases its subscriptions too
    await eventually(lambda codes: msft not in codes)
    await first.close()


async def test_an_account_opend_does_not_have_is_reported(stack):
    config = futu_config(stack["opend"].port, acc_id=999)
    with ServerProcess("td", config, stack["workdir"], name="td-noacc") as server:
        async with await Client.connect(server.url) as td:
            rows = await td.call("ReqUserLogin", {"UserID": "alice", "Password": "secret"})
            assert rows[0]["RspInfo"]["ErrorID"] == 8
        health = json.loads(urllib.request.urlopen(f"{server.http_url}healthz").read())
        assert health["status"] == "degraded"
        assert "no SIMULATE account 999" in health["backend"]["links"]["trade"]["reason"]
        assert "no SIMULATE account 999" in server.log()
