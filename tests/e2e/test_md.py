"""Market data from a real md server on the sim, through a real websocket client."""

from __future__ import annotations

import urllib.request

import orjson

from wsbridge.client import Client
from wsbridge.protocol import catalog


async def instruments(td_url: str) -> list[dict]:
    async with await Client.connect(td_url) as td:
        await td.login("md-lister", "pw")
        return await td.query("ReqQryInstrument", {})


def health(url: str) -> dict:
    with urllib.request.urlopen(url.replace("ws://", "http://") + "healthz", timeout=10) as r:
        return orjson.loads(r.read())


async def test_login_subscribe_and_ticks(md_url: str, td_url: str) -> None:
    futures = [i for i in await instruments(td_url) if i["ProductClass"] == "1"]
    ids = [i["InstrumentID"] for i in futures[:3]]
    async with await Client.connect(md_url) as md:
        await md.login("watcher")
        answers = await md.subscribe([*ids, "NOPE999"])
        assert [a["SpecificInstrument"]["InstrumentID"] for a in answers] == [*ids, "NOPE999"]
        assert [a["RspInfo"]["ErrorID"] for a in answers] == [0, 0, 0, 16]
        assert [a["IsLast"] for a in answers] == [False, False, False, True]
        seen: dict[str, dict] = {}
        while len(seen) < len(ids):
            msg = await md.next_push("RtnDepthMarketData")
            seen[msg["DepthMarketData"]["InstrumentID"]] = msg["DepthMarketData"]
    for tick in seen.values():
        assert set(tick) == set(catalog.fields("DepthMarketData"))
        for level in range(1, 6):
            assert tick[f"BidPrice{level}"] > 0 and tick[f"AskPrice{level}"] > 0
            assert tick[f"BidVolume{level}"] > 0 and tick[f"AskVolume{level}"] > 0
        assert tick["BidPrice1"] < tick["AskPrice1"]
        assert tick["LowerLimitPrice"] <= tick["BidPrice5"] < tick["AskPrice5"] \
            <= tick["UpperLimitPrice"]
        assert tick["LowestPrice"] <= tick["LastPrice"] <= tick["HighestPrice"]
        assert tick["Volume"] > 0 and tick["Turnover"] > 0 and tick["OpenInterest"] > 0
        assert len(tick["UpdateTime"]) == 8 and 0 <= tick["UpdateMillisec"] < 1000
        assert len(tick["TradingDay"]) == 8 and len(tick["ActionDay"]) == 8
        assert tick["PreSettlementPrice"] > 0 and tick["ExchangeID"]


async def test_one_upstream_subscription_however_many_clients(md_url: str,
                                                              td_url: str) -> None:
    target = (await instruments(td_url))[0]["InstrumentID"]
    before = health(md_url)["subscriptions"]
    clients = [await Client.connect(md_url) for _ in range(3)]
    try:
        for i, c in enumerate(clients):
            await c.login(f"fan{i}")
            (answer,) = await c.subscribe([target])
            assert answer["RspInfo"]["ErrorID"] == 0
        ticks = [await c.next_push("RtnDepthMarketData") for c in clients]
        assert {t["DepthMarketData"]["InstrumentID"] for t in ticks} == {target}
        assert health(md_url)["subscriptions"] == before + 1
        # The same tick reaches every client: same bytes, encoded once.
        stamps = set()
        for c in clients:
            msg = await c.next_push("RtnDepthMarketData")
            stamps.add((msg["DepthMarketData"]["UpdateTime"],
                        msg["DepthMarketData"]["UpdateMillisec"]))
        assert len(stamps) <= 2  # all on the same or adjacent tick
        answers = await clients[0].unsubscribe([target])
        assert answers[0]["MsgType"] == "RspUnSubMarketData"
        assert answers[0]["RspInfo"]["ErrorID"] == 0
        assert health(md_url)["subscriptions"] == before + 1  # still held by two clients
        msg = await clients[1].next_push("RtnDepthMarketData")
        assert msg["DepthMarketData"]["InstrumentID"] == target
    finally:
        for c in clients:
            await c.close()


async def test_unsubscribe_stops_ticks(md_url: str, td_url: str) -> None:
    target = (await instruments(td_url))[1]["InstrumentID"]
    async with await Client.connect(md_url) as md:
        await md.login("quitter")
        await md.subscribe([target])
        await md.next_push("RtnDepthMarketData")
        await md.unsubscribe([target])
        # Ticks queued before the answer were already read; none may follow it.
        while not md._pushes.empty():
            md._pushes.get_nowait()
        try:
            msg = await md.next_push("RtnDepthMarketData", timeout=1.0)
        except TimeoutError:
            msg = None
        assert msg is None, msg


async def test_subscribe_before_login_is_refused(md_url: str) -> None:
    async with await Client.connect(md_url) as md:
        (answer,) = await md.subscribe(["rb"])
        assert answer["RspInfo"]["ErrorID"] == -401
        await md.login("late")
        (answer,) = await md.subscribe(["NOPE"])
        assert answer["RspInfo"]["ErrorID"] == 16
