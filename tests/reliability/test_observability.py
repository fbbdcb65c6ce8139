"""/healthz and /metrics tell an operator what the server is doing."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import orjson

from tests.support import ServerProcess
from wsbridge.client import Client

SIM = {"backend": "sim", "sim": {"seed": 1, "tick_interval_ms": 200}}


def get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers["Content-Type"], response.read()


async def test_health_and_metrics(tmp_path: Path) -> None:
    with ServerProcess("md", SIM, tmp_path) as md:
        async with await Client.connect(md.url) as c:
            await c.login("observer")
            await c.call("ReqQryTradingAccount")  # wrong server: -404
            answers = await c.subscribe(["NOPE"])
            assert answers[0]["RspInfo"]["ErrorID"] == 16
            kind, body = get(md.http_url + "healthz")
            health = orjson.loads(body)
            assert kind.startswith("application/json")
            assert health["status"] == "ok" and health["app_type"] == "md"
            assert health["clients"] == 1 and health["logged_in"] == 1
            assert health["backend"]["backend"] == "sim"
            assert health["uptime_seconds"] >= 0 and "subscriptions" in health
            kind, body = get(md.http_url + "metrics")
            text = body.decode()
            assert kind.startswith("text/plain")
            assert "wsbridge_connections 1.0" in text
            assert re.search(r'wsbridge_messages_in_total\{msg_type="ReqUserLogin"\} 1\.0', text)
            assert re.search(r'wsbridge_messages_in_total\{msg_type="invalid"\} 1\.0', text)
            assert re.search(r'wsbridge_errors_total\{error_id="-404"\} 1\.0', text)
            assert re.search(r'wsbridge_errors_total\{error_id="16"\} 1\.0', text)
            assert re.search(r'wsbridge_messages_out_total\{msg_type="RspSubMarketData"\}', text)
            assert 'wsbridge_request_seconds_bucket{le="0.005",msg_type="ReqUserLogin"}' in text
            assert "wsbridge_conflated_quotes_total" in text
            assert "wsbridge_backend_reconnects_total 0.0" in text
        assert "conn=c1" in md.log()  # structured logs carry the connection id
