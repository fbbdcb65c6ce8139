"""A front outage (SIGUSR1 to a server on the stand-in): clients are told (ErrorID 8), the
bridge reconnects, authenticates, logs in, confirms and re-subscribes by itself, and
says so (FrontConnected)."""

from __future__ import annotations

import os
import signal

import pytest

from tests.ctp.conftest import ctp_config, health
from tests.e2e.trading import Trader
from tests.support import ServerProcess
from wsbridge.client import Client, error_of

OUTAGE = 3.0


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("outage")
    md_config, td_config = ctp_config("md"), ctp_config("td")
    for config in (md_config, td_config):
        config["ctp"]["sim"]["outage_seconds"] = OUTAGE
    with ServerProcess("md", md_config, workdir) as md, \
            ServerProcess("td", td_config, workdir) as td:
        yield md, td


async def test_td_session_recovers_by_itself(servers) -> None:
    _, td = servers
    trader = await Trader.connect(td.url)
    other = await Trader.connect(td.url, trader.login["UserID"], "pw")  # same session
    try:
        before = health(td)["backend"]["sessions"][0]
        os.kill(td.process.pid, signal.SIGUSR1)
        for client in (trader.client, other.client):
            down = await client.next_push("FrontDisconnected")
            assert down["RspInfo"]["ErrorID"] == 8
        (during,) = await trader.client.call("ReqQryTradingAccount", {})
        assert error_of(during) == 8
        for client in (trader.client, other.client):
            up = await client.next_push("FrontConnected", timeout=30)
            assert up["RspInfo"]["ErrorID"] == 0
        after = health(td)["backend"]["sessions"][0]
        assert after["ready"] and after["disconnects"] == before["disconnects"] + 1
        assert after["session_id"] != before["session_id"]  # a new CTP login
        (account,) = await trader.client.query("ReqQryTradingAccount", {})
        assert account["AccountID"] == trader.login["UserID"]
        rb = await trader.instrument("rb")
        depth = await trader.depth(rb)
        placed = await trader.place(rb, "0", "0", depth["LowerLimitPrice"], 1)
        assert placed["error"] is None
        assert placed["orders"][-1]["SessionID"] == after["session_id"]
    finally:
        await trader.close()
        await other.close()


async def test_md_feed_resubscribes_by_itself(servers) -> None:
    md, td = servers
    async with await Client.connect(td.url) as probe:
        await probe.login("probe", "pw")
        rows = await probe.query("ReqQryInstrument", {"ProductID": "au"})
        au = sorted(r["InstrumentID"] for r in rows)[0]
    async with await Client.connect(md.url) as client:
        await client.login("watcher", "")
        await client.subscribe([au])
        await client.next_push("RtnDepthMarketData")
        os.kill(md.process.pid, signal.SIGUSR1)
        down = await client.next_push("FrontDisconnected")
        assert down["RspInfo"]["ErrorID"] == 8
        up = await client.next_push("FrontConnected", timeout=30)
        assert up["RspInfo"]["ErrorID"] == 0
        backend = health(md)["backend"]
        assert backend["md"]["disconnects"] == 1
        # The stand-in forgot every subscription with the connection: this one is the
        # bridge's doing.
        assert backend["stand_in"]["md_subscriptions"] == 1
        tick = await client.next_push("RtnDepthMarketData")
        assert tick["DepthMarketData"]["InstrumentID"] == au
