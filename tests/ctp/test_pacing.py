"""CTP's query flow control: the stand-in refuses a query within its interval of the last
one with -3, as a real front does; the bridge paces each session's queries so clients never
see it, and orders overtake queued queries."""

from __future__ import annotations

import pytest

from tests.ctp.conftest import ctp_config, health
from tests.e2e.trading import Trader
from tests.support import ServerProcess
from wsbridge.client import error_of

INTERVAL = 0.2
BURST = 20


def paced_config(bridge_interval: float) -> dict:
    config = ctp_config("td", query_interval=bridge_interval)
    config["ctp"]["sim"]["query_interval"] = INTERVAL
    return config


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pacing")
    with ServerProcess("td", paced_config(INTERVAL), workdir, name="paced") as paced, \
            ServerProcess("td", paced_config(0.0), workdir, name="unpaced") as unpaced:
        yield paced, unpaced


async def burst(trader: Trader) -> list[dict]:
    ids = [await trader.client.send("ReqQryTradingAccount", {}) for _ in range(BURST)]
    answers: dict[int, dict] = {}
    while len(answers) < BURST:
        msg = await trader.client.next_push("RspQryTradingAccount", timeout=30)
        answers[msg["RequestID"]] = msg
    return [answers[i] for i in ids]


async def test_a_burst_of_queries_is_paced_and_all_answered(servers) -> None:
    paced, _ = servers
    trader = await Trader.connect(paced.url)
    try:
        answers = await burst(trader)
        assert [error_of(m) for m in answers] == [0] * BURST
        assert all(m["TradingAccount"]["AccountID"] == trader.login["UserID"]
                   for m in answers)
        backend = health(paced)["backend"]
        (session,) = backend["sessions"]
        assert backend["stand_in"]["flow_rejections"] == 0  # the front never had to refuse
        assert session["flow_control_retries"] == 0
        assert session["queries_sent"] >= BURST
    finally:
        await trader.close()


async def test_an_order_is_not_queued_behind_queries(servers) -> None:
    paced, _ = servers
    trader = await Trader.connect(paced.url)
    try:
        rb = await trader.instrument("rb")
        depth = await trader.depth(rb)
        for _ in range(BURST):
            await trader.client.send("ReqQryInvestorPosition", {})
        await trader.client.send("ReqOrderInsert", {
            "InstrumentID": rb["InstrumentID"], "Direction": "0", "CombOffsetFlag": "0",
            "CombHedgeFlag": "1", "OrderPriceType": "2", "LimitPrice": depth["LowerLimitPrice"],
            "VolumeTotalOriginal": 1, "TimeCondition": "3", "VolumeCondition": "1",
            "MinVolume": 1, "ContingentCondition": "1", "ForceCloseReason": "0"})
        seen = []
        while "RtnOrder" not in seen:
            msg = await trader.client.next_push(("RtnOrder", "RspQryInvestorPosition"),
                                                timeout=30)
            seen.append(msg["MsgType"])
        # Twenty queries at one per 0.2s are still being answered when the order is in.
        assert seen.count("RspQryInvestorPosition") < BURST
    finally:
        await trader.close()


async def test_without_pacing_the_front_refuses_with_minus_3(servers) -> None:
    _, unpaced = servers
    trader = await Trader.connect(unpaced.url)
    try:
        answers = await burst(trader)
        assert -3 in [error_of(m) for m in answers]
        assert health(unpaced)["backend"]["stand_in"]["flow_rejections"] > 0
    finally:
        await trader.close()
