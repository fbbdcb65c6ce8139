"""The td server on the CTP back end, end to end: ws client -> bridge -> openctp structs ->
stand-in front -> sim exchange, and every answer back through the generated SPI."""

from __future__ import annotations

import asyncio

import pytest

from tests.ctp.conftest import health
from tests.e2e.trading import Trader, new_user
from wsbridge.client import Client, ClientError, body_of, error_of

BUY, SELL, OPEN, CLOSE = "0", "1", "0", "1"

# Every request webctp serves besides login (DESIGN.md), with a body that selects data.
WEBCTP_QUERIES = [
    "ReqQryInstrument", "ReqQryExchange", "ReqQryProduct", "ReqQryDepthMarketData",
    "ReqQryOrder", "ReqQryTrade", "ReqQryInvestorPosition", "ReqQryInvestorPositionDetail",
    "ReqQryTradingAccount", "ReqQryInvestor", "ReqQryTradingCode",
    "ReqQryInstrumentMarginRate", "ReqQryInstrumentCommissionRate",
    "ReqQryExchangeMarginRate", "ReqQryInstrumentOrderCommRate",
    "ReqQryOptionInstrTradeCost", "ReqQryOptionInstrCommRate", "ReqQryMaxOrderVolume",
]


@pytest.fixture
async def trader(td_server):
    t = await Trader.connect(td_server.url)
    yield t
    await t.close()


async def test_wrong_password_gets_ctps_own_error_decoded_from_gb18030(td_server) -> None:
    user = new_user("pw")
    async with await Client.connect(td_server.url) as first:
        await first.login(user, "right")  # the sim opens the account with this password
    # session_linger is 0: the CTP session closes with its last client, so the next
    # login goes to the front again.
    for _ in range(50):
        if not any(s["account"].endswith(user) for s in health(td_server)["backend"]
                   ["sessions"]):
            break
        await asyncio.sleep(0.1)
    async with await Client.connect(td_server.url) as second:
        with pytest.raises(ClientError) as failed:
            await second.login(user, "wrong")
    assert failed.value.error_id == 3
    assert failed.value.error_msg == "CTP:不合法的登录"


async def test_a_failed_opening_does_not_fail_the_client_waiting_on_it(td_server) -> None:
    user = new_user("race")
    async with await Client.connect(td_server.url) as first:
        await first.login(user, "right")
    for _ in range(50):  # the session closes with its last client (session_linger 0)
        if not any(s["account"].endswith(user) for s in health(td_server)["backend"]
                   ["sessions"]):
            break
        await asyncio.sleep(0.1)
    wrong, right = await Client.connect(td_server.url), await Client.connect(td_server.url)
    try:
        # Both arrive while the first one's CTP session is being opened with its password.
        attempts = await asyncio.gather(wrong.login(user, "wrong"), right.login(user, "right"),
                                        return_exceptions=True)
        assert isinstance(attempts[0], ClientError) and attempts[0].error_id == 3
        assert attempts[1]["UserID"] == user
    finally:
        await wrong.close()
        await right.close()


async def test_login_answers_with_the_ctp_sessions_fields(trader: Trader) -> None:
    login = trader.login
    assert login["UserID"] and login["BrokerID"] == "9999"
    assert login["FrontID"] > 0 and login["SessionID"] > 0
    assert login["TradingDay"].isdigit() and len(login["TradingDay"]) == 8


@pytest.mark.parametrize("msg_type", WEBCTP_QUERIES)
async def test_every_webctp_query_is_answered(trader: Trader, msg_type: str) -> None:
    rb = await trader.instrument("rb")
    body = {"InstrumentID": rb["InstrumentID"]} if msg_type in (
        "ReqQryDepthMarketData", "ReqQryInstrumentMarginRate",
        "ReqQryInstrumentCommissionRate", "ReqQryMaxOrderVolume",
        "ReqQryInstrumentOrderCommRate") else {}
    if msg_type == "ReqQryMaxOrderVolume":
        body.update(Direction=BUY, OffsetFlag=OPEN, HedgeFlag="1")
    if msg_type == "ReqQryExchangeMarginRate":
        body.update(HedgeFlag="1", InstrumentID=rb["InstrumentID"])
    messages = await trader.client.call(msg_type, body)
    assert all(error_of(m) == 0 for m in messages), messages
    assert messages[-1]["IsLast"] is True
    assert messages[0]["MsgType"] == "Rsp" + msg_type[3:]


async def test_instrument_and_exchange_names_arrive_as_utf8(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    assert rb["InstrumentName"].startswith("螺纹钢")
    exchanges = {e["ExchangeID"]: e["ExchangeName"]
                 for e in await trader.client.query("ReqQryExchange", {})}
    assert exchanges["SHFE"] == "上海期货交易所"


async def test_order_fills_with_bridge_allocated_order_ref(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    order = {"InstrumentID": rb["InstrumentID"], "ExchangeID": rb["ExchangeID"],
             "Direction": BUY, "CombOffsetFlag": OPEN, "CombHedgeFlag": "1",
             "OrderPriceType": "2", "LimitPrice": depth["UpperLimitPrice"],
             "VolumeTotalOriginal": 1, "TimeCondition": "3", "VolumeCondition": "1",
             "MinVolume": 1, "ContingentCondition": "1", "ForceCloseReason": "0"}
    first = await trader.client.send("ReqOrderInsert", order)  # no OrderRef: the bridge's
    pushes = []
    while not any(m["MsgType"] == "RtnTrade" for m in pushes):
        pushes.append(await trader.client.next_push(("RtnOrder", "RtnTrade")))
    orders = [m["Order"] for m in pushes if m["MsgType"] == "RtnOrder"]
    ref = orders[0]["OrderRef"]
    assert int(ref) > int(trader.login["MaxOrderRef"] or 0)
    assert all(o["OrderRef"] == ref for o in orders)
    assert orders[0]["RequestID"] == first  # the client's RequestID, not the upstream one
    trade = next(m["Trade"] for m in pushes if m["MsgType"] == "RtnTrade")
    assert trade["OrderRef"] == ref and trade["Volume"] == 1
    await trader.client.send("ReqOrderInsert", order)
    second = await trader.client.next_push("RtnOrder", where=lambda m: m["Order"]["OrderRef"]
                                           != ref)
    assert int(second["Order"]["OrderRef"]) > int(ref)


async def test_resting_order_is_canceled(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    resting = await trader.place(rb, BUY, OPEN, depth["LowerLimitPrice"], 1)
    order = resting["orders"][-1]
    assert resting["error"] is None and order["OrderStatus"] == "3"
    (canceled,) = await trader.cancel(order)
    assert canceled["Order"]["OrderStatus"] == "5"
    orders = await trader.client.query("ReqQryOrder", {"InstrumentID": rb["InstrumentID"]})
    assert any(o["OrderSysID"] == order["OrderSysID"] and o["OrderStatus"] == "5"
               for o in orders)


async def test_cancel_by_order_ref_alone_uses_this_session(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    resting = await trader.place(rb, BUY, OPEN, depth["LowerLimitPrice"], 1)
    await trader.client.send("ReqOrderAction", {"ActionFlag": "0", "OrderRef": resting["ref"],
                                                "InstrumentID": rb["InstrumentID"]})
    canceled = await trader.client.next_push(
        "RtnOrder", where=lambda m: m["Order"]["OrderRef"] == resting["ref"]
        and m["Order"]["OrderStatus"] == "5")
    assert canceled["Order"]["OrderSysID"] == resting["orders"][-1]["OrderSysID"]


async def test_rejections_carry_ctps_error_and_text(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    depth = await trader.depth(rb)
    result = await trader.place(rb, SELL, CLOSE, depth["BidPrice1"], 5)
    rsp = result["error"]
    assert rsp["MsgType"] == "RspOrderInsert" and rsp["RequestID"] != 0
    assert rsp["RspInfo"] == {"ErrorID": 30, "ErrorMsg": "CTP:平仓量超过持仓量"}
    assert rsp["InputOrder"]["OrderRef"] == result["ref"]
    # The ErrRtnOrderInsert push may overtake the response on the way to the client.
    err_rtn = result["err_rtn"] or await trader.client.next_push("ErrRtnOrderInsert")
    assert err_rtn["RspInfo"]["ErrorID"] == 30
    missing = await trader.client.call("ReqOrderAction", {"ActionFlag": "0",
                                                          "ExchangeID": "SHFE",
                                                          "OrderSysID": "999999"})
    assert missing[0]["MsgType"] == "RspOrderAction"
    assert missing[0]["RspInfo"] == {"ErrorID": 25, "ErrorMsg": "CTP:撤单找不到相应报单"}


async def test_bad_field_values_are_refused_before_reaching_ctp(trader: Trader) -> None:
    (msg,) = await trader.client.call("ReqQryInstrument", {"InstrumentID": "合约" * 30})
    assert error_of(msg) == -400 and "InstrumentID" in msg["Detail"]
    (msg,) = await trader.client.call("ReqQryOrder", {"UserID": "somebody-else"})
    assert error_of(msg) == -400 and "UserID" in msg["Detail"]


async def test_two_clients_share_one_ctp_session(td_server) -> None:
    user = new_user("share")
    a = await Trader.connect(td_server.url, user, "pw")
    b = await Trader.connect(td_server.url, user, "pw")
    try:
        assert (a.login["FrontID"], a.login["SessionID"]) == \
            (b.login["FrontID"], b.login["SessionID"])
        await b.client.login(user, "pw")  # a second login on one connection counts once
        sessions = [s for s in health(td_server)["backend"]["sessions"]
                    if s["account"] == f"9999:{user}"]
        assert len(sessions) == 1 and sessions[0]["clients"] == 2
        rb = await a.instrument("rb")
        depth = await a.depth(rb)
        placed = await a.place(rb, BUY, OPEN, depth["LowerLimitPrice"], 1)
        seen = await b.client.next_push("RtnOrder", where=lambda m: m["Order"]["OrderRef"]
                                        == placed["ref"])
        assert seen["Order"]["SessionID"] == a.login["SessionID"]
        with pytest.raises(ClientError) as wrong:
            await Trader.connect(td_server.url, user, "not-the-password")
        assert wrong.value.error_id == 3
    finally:
        await a.close()
        await b.close()


async def test_session_requests_stay_with_the_bridge(trader: Trader) -> None:
    (msg,) = await trader.client.call("ReqAuthenticate", {"AppID": "x"})
    assert error_of(msg) == -404
    (msg,) = await trader.client.call("ReqUserLogout", {})
    assert error_of(msg) == 0 and body_of(msg)["UserID"] == trader.login["UserID"]


async def test_password_update_goes_through(td_server) -> None:
    user = new_user("pwd")
    t = await Trader.connect(td_server.url, user, "old-pw")
    try:
        msgs = await t.client.call("ReqUserPasswordUpdate",
                                   {"OldPassword": "wrong", "NewPassword": "new-pw"})
        assert msgs[0]["RspInfo"] == {"ErrorID": 14, "ErrorMsg": "CTP:原口令不匹配"}
        msgs = await t.client.call("ReqUserPasswordUpdate",
                                   {"OldPassword": "old-pw", "NewPassword": "new-pw"})
        assert error_of(msgs[0]) == 0
    finally:
        await t.close()


async def test_every_request_of_the_trader_api_gets_its_answer(trader: Trader) -> None:
    """All 118 Req* travel the generated tables both ways: each gets its own Rsp*."""
    from wsbridge.protocol import catalog

    answered = {}
    for msg_type in catalog.requests("td"):
        if msg_type == "ReqUserLogin":
            continue  # the connection's login, covered above
        messages = await trader.client.call(msg_type, {}, timeout=30)
        expected = catalog.message("td", msg_type).response.msg_type
        assert [m["MsgType"] for m in messages] == [expected] * len(messages), msg_type
        assert messages[-1]["IsLast"] is True
        answered[msg_type] = error_of(messages[-1])
    assert len(answered) == 117
    # The bridge keeps the session to itself (-404); the stand-in's exchange serves the
    # webctp set and answers the rest as a front without the function would (27).
    assert {m for m, e in answered.items() if e == -404} == {
        "ReqAuthenticate", "ReqUserLoginWithCaptcha", "ReqUserLoginWithOTP",
        "ReqUserLoginWithText"}
    assert all(answered[m] == 0 for m in WEBCTP_QUERIES if m != "ReqQryMaxOrderVolume")
    assert answered["ReqQryParkedOrder"] == 27
    assert answered["ReqOrderAction"] == 25


async def test_settlement_statement_rows_join_into_clean_text(trader: Trader) -> None:
    rows = await trader.client.query("ReqQrySettlementInfo", {})
    assert [r["SequenceNo"] for r in rows] == list(range(1, len(rows) + 1))
    text = "".join(r["Content"] for r in rows)
    assert text.startswith("交易结算单(盯市)") and "\ufffd" not in text
    assert trader.login["UserID"] in text
