"""OpenD going away and coming back: ErrorID 8 pushes, automatic reconnect, state restored."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.futu.support import SimOpend, futu_config, limit_price, mine, order
from tests.support import ServerProcess
from wsbridge.client import Client

TIMEOUT = 30.0  # generous: futu-api reconnects on its own timer


@pytest.fixture
def stack(tmp_path):
    opend = SimOpend(tmp_path).start()
    config = futu_config(opend.port)
    try:
        with ServerProcess("md", config, tmp_path) as md, \
                ServerProcess("td", config, tmp_path) as td:
            yield opend, md, td
    finally:
        opend.stop()
        opend.kill()


async def test_opend_restart(stack):
    opend, md_server, td_server = stack
    md = await Client.connect(md_server.url)
    td = await Client.connect(td_server.url)
    try:
        await md.login("alice", "secret")
        td.session = await td.login("alice", "secret")
        await md.subscribe(["00700"])
        await md.next_push("RtnDepthMarketData")
        price = await limit_price(td, "00700", 0.9)
        await td.send("ReqOrderInsert", order("1", price))
        resting = await td.next_push("RtnOrder", where=lambda m: mine(td, "1")(m)
                                     and m["Order"]["OrderStatus"] == "3")
        sys_id = resting["Order"]["OrderSysID"]

        opend.kill()
        for client in (md, td):
            down = await client.next_push("FrontDisconnected", timeout=TIMEOUT)
            assert down["RspInfo"]["ErrorID"] == 8
        answer = await td.call("ReqQryTradingAccount")
        assert answer[0]["RspInfo"]["ErrorID"] == 8  # at once, not after a timeout
        health = await td.call("ReqQryOrder")
        assert health[0]["RspInfo"]["ErrorID"] == 8

        opend.start(port=opend.port)  # same port, same journal
        for client in (md, td):
            await client.next_push("FrontConnected", timeout=TIMEOUT)
        tick = await md.next_push("RtnDepthMarketData", timeout=TIMEOUT)
        assert tick["DepthMarketData"]["InstrumentID"] == "00700"
        orders = await td.query("ReqQryOrder", {"OrderSysID": sys_id})
        assert [o["OrderStatus"] for o in orders] == ["3"] and orders[0]["OrderRef"] == "1"
        await td.send("ReqOrderAction", {"OrderSysID": sys_id, "ActionFlag": "0"})
        canceled = await td.next_push("RtnOrder", where=lambda m: (
            m["Order"]["OrderSysID"] == sys_id and m["Order"]["OrderStatus"] == "5"))
        assert canceled["Order"]["OrderRef"] == "1"  # the identity survived the restart
    finally:
        await md.close()
        await td.close()


async def test_server_started_before_opend_connects_when_it_appears(tmp_path):
    opend = SimOpend(tmp_path)
    opend.start()
    port = opend.port
    assert opend.stop() == 0  # a clean stop; the port is free now, OpenD not running
    config = futu_config(port)
    with ServerProcess("td", config, tmp_path) as td_server:
        async with await Client.connect(td_server.url) as td:
            refused = await td.call("ReqUserLogin", {"UserID": "alice", "Password": "secret"})
            assert refused[0]["RspInfo"]["ErrorID"] == 8
            opend.start(port=port)
            try:
                await td.next_push("FrontConnected", timeout=TIMEOUT)
                await td.login("alice", "secret")
                assert await td.query("ReqQryTradingAccount")
            finally:
                opend.stop()


async def test_a_wrong_unlock_password_refuses_orders_but_serves_queries(tmp_path):
    with SimOpend(tmp_path) as opend:
        config = futu_config(opend.port, trd_env="REAL", unlock_password="not-it-7f3a")
        with ServerProcess("td", config, tmp_path) as td_server:
            health = json.loads(urllib.request.urlopen(f"{td_server.http_url}healthz").read())
            assert "wrong password" in health["backend"]["unlock_error"]
            assert health["backend"]["acc_id"] == 2000001  # the REAL account
            async with await Client.connect(td_server.url) as td:
                td.session = await td.login("alice", "secret")
                assert await td.query("ReqQryTradingAccount")
                price = await limit_price(td, "00700", 0.9)
                rows = await td.call("ReqOrderInsert", order("1", price))
                assert rows[0]["RspInfo"]["ErrorID"] == 6  # OpenD: unlock first
                assert "unlock" in rows[0]["RspInfo"]["ErrorMsg"]
            assert "not-it-7f3a" not in td_server.log()
