"""The md server on the CTP back end: one shared md connection, reference-counted
subscriptions, ticks converted from real openctp DepthMarketData structs."""

from __future__ import annotations

import pytest

from tests.ctp.conftest import health
from wsbridge.client import Client, error_of


@pytest.fixture(scope="module")
def rb(td_server) -> str:
    """An rb contract id, asked of the td side (same seed, same instruments)."""
    import asyncio

    async def ask() -> str:
        async with await Client.connect(td_server.url) as td:
            await td.login("mdprobe", "pw")
            rows = await td.query("ReqQryInstrument", {"ProductID": "rb"})
            return sorted(r["InstrumentID"] for r in rows)[0]

    return asyncio.run(ask())


async def test_subscribe_gets_ticks(md_server, rb: str) -> None:
    async with await Client.connect(md_server.url) as md:
        login = await md.login("anyone", "")
        assert login["TradingDay"].isdigit()
        (answer,) = await md.subscribe([rb])
        assert error_of(answer) == 0 and answer["SpecificInstrument"]["InstrumentID"] == rb
        tick = (await md.next_push("RtnDepthMarketData"))["DepthMarketData"]
        assert tick["InstrumentID"] == rb
        assert tick["BidPrice1"] < tick["AskPrice1"] and tick["LastPrice"] > 0
        assert tick["UpperLimitPrice"] > tick["LowerLimitPrice"] > 0


async def test_unknown_instrument_is_refused_with_ctps_text(md_server) -> None:
    async with await Client.connect(md_server.url) as md:
        await md.login("anyone", "")
        (answer,) = await md.subscribe(["nosuch2701"])
        assert answer["RspInfo"] == {"ErrorID": 16, "ErrorMsg": "CTP:找不到合约"}


async def test_clients_share_one_upstream_subscription(md_server, rb: str) -> None:
    a = await Client.connect(md_server.url)
    b = await Client.connect(md_server.url)
    try:
        await a.login("a", "")
        await b.login("b", "")
        await a.subscribe([rb])
        await b.subscribe([rb])
        assert health(md_server)["backend"]["md"]["instruments"] == 1
        await a.unsubscribe([rb])
        assert health(md_server)["backend"]["md"]["instruments"] == 1  # b still holds it
        await b.next_push("RtnDepthMarketData")
        await b.next_push("RtnDepthMarketData")  # ticks keep coming for b
        await b.unsubscribe([rb])
        assert health(md_server)["backend"]["md"]["instruments"] == 0
    finally:
        await a.close()
        await b.close()


async def test_for_quote_subscriptions_and_md_queries(md_server, rb: str) -> None:
    async with await Client.connect(md_server.url) as md:
        await md.login("fq", "")
        (answer,) = await md.call("SubscribeForQuoteRsp", InstrumentID=[rb])
        assert answer["MsgType"] == "RspSubForQuoteRsp" and error_of(answer) == 0
        assert health(md_server)["backend"]["md"]["for_quote_instruments"] == 1
        (answer,) = await md.call("UnSubscribeForQuoteRsp", InstrumentID=[rb])
        assert answer["MsgType"] == "RspUnSubForQuoteRsp" and error_of(answer) == 0
        assert health(md_server)["backend"]["md"]["for_quote_instruments"] == 0
        (answer,) = await md.call("ReqQryMulticastInstrument", {})
        assert answer["MsgType"] == "RspQryMulticastInstrument" and error_of(answer) == 0
        (answer,) = await md.call("ReqUserLogout", {})
        assert answer["MsgType"] == "RspUserLogout" and error_of(answer) == 0
