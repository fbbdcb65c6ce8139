"""Each limit hit on purpose: a clear error or close code, never a crash."""

from __future__ import annotations

import asyncio
import base64
import os
import urllib.request
from pathlib import Path

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support import ServerProcess
from wsbridge.client import Client

SIM = {"backend": "sim", "sim": {"seed": 1, "tick_interval_ms": 200}}


async def test_request_rate_limit(tmp_path: Path) -> None:
    config = {**SIM, "limits": {"requests_per_second": 5, "request_burst": 5}}
    with ServerProcess("td", config, tmp_path) as td:
        async with await Client.connect(td.url) as c:
            await c.login("rate", "pw")
            ids = [await c.send("ReqQryTradingAccount", {}) for _ in range(30)]
            answers = {}
            while len(answers) < len(ids):
                msg = await c.next_push("RspQryTradingAccount")
                answers[msg["RequestID"]] = msg["RspInfo"]["ErrorID"]
            codes = [answers[i] for i in ids]
            assert set(codes) == {0, -3}
            assert codes.count(0) >= 4 and codes.count(-3) >= 10  # burst 5, login took one
            await asyncio.sleep(1.0)  # the bucket refills: the socket is usable again
            assert (await c.query("ReqQryTradingAccount", {}))[0]["Balance"] > 0


async def test_connection_limits(tmp_path: Path) -> None:
    config = {**SIM, "limits": {"max_connections": 3, "max_connections_per_ip": 2}}
    with ServerProcess("md", config, tmp_path) as md:
        first = [await connect(md.url) for _ in range(2)]
        with pytest.raises(InvalidStatus) as info:
            await connect(md.url)
        assert info.value.response.status_code == 503
        assert b"too many connections from" in info.value.response.body
        for ws in first:
            await ws.close()
        await asyncio.sleep(0.5)
        again = await connect(md.url)  # room again once they left
        await again.close()


async def test_subscription_limit(tmp_path: Path) -> None:
    config = {**SIM, "limits": {"max_subscriptions": 2}}
    with ServerProcess("td", SIM, tmp_path, "td") as td, \
            ServerProcess("md", config, tmp_path) as md:
        async with await Client.connect(td.url) as t:
            await t.login("lister", "pw")
            ids = [i["InstrumentID"] for i in await t.query("ReqQryInstrument", {})][:3]
        async with await Client.connect(md.url) as c:
            await c.login("greedy")
            answers = await c.subscribe(ids)
            assert [a["RspInfo"]["ErrorID"] for a in answers] == [0, 0, -400]
            assert "subscription limit" in answers[2]["RspInfo"]["ErrorMsg"]
            await c.unsubscribe(ids[:1])
            (answer,) = await c.subscribe(ids[2:])
            assert answer["RspInfo"]["ErrorID"] == 0


async def test_idle_client_that_ignores_pings_is_closed(tmp_path: Path) -> None:
    config = {**SIM, "limits": {"ping_interval": 0.5, "ping_timeout": 0.5}}
    with ServerProcess("md", config, tmp_path) as md:
        host, port = md.url[5:].rstrip("/").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        status = await reader.readline()
        assert b"101" in status
        # Never answer the server's pings: it must give up on us and close.
        async with asyncio.timeout(30):
            while await reader.read(4096):
                pass
        writer.close()
        # A well-behaved client on the same server is fine.
        async with await Client.connect(md.url) as c:
            await c.login("awake")
            await asyncio.sleep(1.5)
            assert (await c.login("awake"))["UserID"] == "awake"


async def test_many_concurrent_clients_each_get_their_own_answers(tmp_path: Path) -> None:
    with ServerProcess("td", SIM, tmp_path) as td:
        async def one(i: int) -> None:
            async with await Client.connect(td.url) as c:
                login = await c.login(f"crowd{i}", "pw")
                assert login["UserID"] == f"crowd{i}"
                (investor,) = await c.query("ReqQryInvestor", {})
                assert investor["InvestorID"] == f"crowd{i}"

        await asyncio.gather(*(one(i) for i in range(40)))
        with urllib.request.urlopen(td.http_url + "healthz", timeout=10) as response:
            health = orjson.loads(response.read())
        assert health["status"] == "ok"
