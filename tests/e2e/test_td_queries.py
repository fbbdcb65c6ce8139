"""Every webctp td request answered with real data from the sim, over a real socket."""

from __future__ import annotations

import pytest

from tests.e2e.trading import Trader, new_user
from wsbridge.client import Client, ClientError
from wsbridge.protocol import catalog


@pytest.fixture
async def trader(td_url: str):
    t = await Trader.connect(td_url)
    yield t
    await t.close()


async def test_new_user_gets_an_account_then_password_is_checked(td_url: str) -> None:
    user = new_user("acct")
    async with await Client.connect(td_url) as c:
        login = await c.login(user, "first")
        assert login["UserID"] == user and login["TradingDay"] and login["FrontID"]
        assert set(login) == set(catalog.fields("RspUserLogin"))
        (account,) = await c.query("ReqQryTradingAccount", {})
        assert account["Balance"] == account["PreBalance"] == 10_000_000
        assert account["Available"] == account["Balance"]
    async with await Client.connect(td_url) as c:
        with pytest.raises(ClientError) as info:
            await c.login(user, "wrong")
        assert info.value.error_id == 3
        assert info.value.message["MsgType"] == "RspUserLogin"
        assert (await c.login(user, "first"))["UserID"] == user  # same socket still usable


async def test_password_update(td_url: str) -> None:
    user = new_user("pwd")
    async with await Client.connect(td_url) as c:
        await c.login(user, "old")
        with pytest.raises(ClientError) as info:
            await c.query("ReqUserPasswordUpdate",
                          {"UserID": user, "OldPassword": "nope", "NewPassword": "x"})
        assert info.value.error_id == 14
        await c.query("ReqUserPasswordUpdate",
                      {"UserID": user, "OldPassword": "old", "NewPassword": "new"})
    async with await Client.connect(td_url) as c:
        with pytest.raises(ClientError):
            await c.login(user, "old")
    async with await Client.connect(td_url) as c:
        assert (await c.login(user, "new"))["UserID"] == user


async def test_reference_data(trader: Trader) -> None:
    c = trader.client
    instruments = await c.query("ReqQryInstrument", {})
    products = {i["ProductID"] for i in instruments}
    assert {"rb", "au", "IF", "m", "TA", "AAPL", "00700"} <= products
    rb = await trader.instrument("rb")
    assert rb["ExchangeID"] == "SHFE" and rb["VolumeMultiple"] == 10 and rb["PriceTick"] == 1
    assert set(rb) == set(catalog.fields("Instrument"))
    (one,) = await c.query("ReqQryInstrument", {"InstrumentID": rb["InstrumentID"]})
    assert one == rb
    shfe = await c.query("ReqQryInstrument", {"ExchangeID": "SHFE"})
    assert shfe and all(i["ExchangeID"] == "SHFE" for i in shfe)
    exchanges = {e["ExchangeID"]: e for e in await c.query("ReqQryExchange", {})}
    assert {"SHFE", "DCE", "CZCE", "CFFEX"} <= set(exchanges)
    assert exchanges["SHFE"]["ExchangeName"]
    (product,) = await c.query("ReqQryProduct", {"ProductID": "rb"})
    assert product["ExchangeID"] == "SHFE" and product["VolumeMultiple"] == 10
    depth = await trader.depth(rb)
    assert depth["InstrumentID"] == rb["InstrumentID"] and depth["AskPrice1"] > 0
    assert await c.query("ReqQryInstrument", {"InstrumentID": "NOPE"}) == []


async def test_rates_and_investor(trader: Trader) -> None:
    c = trader.client
    rb = await trader.instrument("rb")
    body = {"InstrumentID": rb["InstrumentID"]}
    (margin,) = await c.query("ReqQryInstrumentMarginRate", body)
    assert margin["LongMarginRatioByMoney"] > 0 and margin["InstrumentID"] == rb["InstrumentID"]
    (commission,) = await c.query("ReqQryInstrumentCommissionRate", body)
    assert commission["OpenRatioByMoney"] > 0 or commission["OpenRatioByVolume"] > 0
    (exchange_margin,) = await c.query("ReqQryExchangeMarginRate", body)
    assert exchange_margin["LongMarginRatioByMoney"] > 0
    rows = await c.query("ReqQryInstrumentOrderCommRate", body)
    assert all(r["InstrumentID"] == rb["InstrumentID"] for r in rows)
    assert await c.query("ReqQryOptionInstrTradeCost", body) == []  # no options in the sim
    assert await c.query("ReqQryOptionInstrCommRate", body) == []
    (investor,) = await c.query("ReqQryInvestor", {})
    assert investor["InvestorID"] == trader.login["UserID"]
    codes = await c.query("ReqQryTradingCode", {})
    assert codes and all(r["InvestorID"] == trader.login["UserID"] for r in codes)


async def test_max_order_volume(trader: Trader) -> None:
    rb = await trader.instrument("rb")
    (row,) = await trader.client.query("ReqQryMaxOrderVolume", {
        "InstrumentID": rb["InstrumentID"], "ExchangeID": "SHFE", "Direction": "0",
        "OffsetFlag": "0", "HedgeFlag": "1"})
    depth = await trader.depth(rb)
    margin_per_lot = depth["UpperLimitPrice"] * rb["VolumeMultiple"] * rb["LongMarginRatio"]
    assert 0 < row["MaxVolume"] <= 10_000_000 / margin_per_lot * 1.5
    (closing,) = await trader.client.query("ReqQryMaxOrderVolume", {
        "InstrumentID": rb["InstrumentID"], "Direction": "1", "OffsetFlag": "1",
        "HedgeFlag": "1"})
    assert closing["MaxVolume"] == 0  # nothing to close yet


async def test_empty_answers_are_one_null_row(trader: Trader) -> None:
    for msg_type in ("ReqQryOrder", "ReqQryTrade", "ReqQryInvestorPosition",
                     "ReqQryInvestorPositionDetail"):
        (msg,) = await trader.client.call(msg_type, {})
        assert msg["IsLast"] is True and msg["RspInfo"]["ErrorID"] == 0
        spec = catalog.message("td", msg_type).response
        assert msg[spec.body] is None


async def test_settlement_confirm_and_logout(trader: Trader) -> None:
    c = trader.client
    (confirm,) = await c.query("ReqSettlementInfoConfirm", {})
    assert confirm["InvestorID"] == trader.login["UserID"]
    (queried,) = await c.query("ReqQrySettlementInfoConfirm", {})
    assert queried["ConfirmDate"]
