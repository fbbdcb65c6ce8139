"""SimAdapter through the adapter interface, with a recording sink and a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from wsbridge.adapters.base import Request, load_adapter
from wsbridge.adapters.sim import SimAdapter
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.exchange import ctp

from .helpers import FakeClock, levels, order


class RecordingSink:
    """Collects every call the adapter makes; ``wait`` blocks until a condition holds."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self._changed = asyncio.Event()

    def _record(self, *call) -> None:
        self.calls.append(call)
        self._changed.set()

    def on_tick(self, depth):
        self._record("tick", depth)

    def on_order(self, account, order):
        self._record("order", account, order)

    def on_trade(self, account, trade):
        self._record("trade", account, trade)

    def on_push(self, account, msg_type, body_key, body, rsp_info=None):
        self._record("push", account, msg_type, body_key, body, rsp_info)

    def on_status(self, connected, error_msg=""):
        self._record("status", connected)

    def of(self, kind: str) -> list[tuple]:
        return [c for c in self.calls if c[0] == kind]

    async def wait(self, predicate, limit: int = 10_000) -> None:
        for _ in range(limit):
            if predicate():
                return
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), 30)
        pytest.fail("condition never held")


class FastClock(FakeClock):
    """Simulated time: sleeping just moves the clock, so bucket rounds run back to back."""

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)


def _adapter(app_type: str, clock: FastClock, **settings) -> tuple[SimAdapter, RecordingSink]:
    data = {"journal": None, "utc_offset_minutes": 480, **settings}
    sink = RecordingSink()
    adapter = SimAdapter(SimAdapter.parse_settings(data, "sim"), app_type, sink,
                         clock=clock, sleep=clock.sleep)
    return adapter, sink


def test_the_registry_finds_the_sim_back_end():
    assert load_adapter("sim") is SimAdapter


async def test_td_login_order_fill_cancel_and_reject():
    clock = FastClock()
    adapter, sink = _adapter("td", clock)
    await adapter.start()
    try:
        assert sink.of("status") == [("status", True)]
        login = await adapter.login(
            {"BrokerID": "9999", "UserID": "alice", "Password": "pw"}, "127.0.0.1:5000")
        assert login.account == "9999:alice" and login.user_id == "alice"
        assert set(login.fields) == set(ctp.blank("RspUserLogin"))
        assert login.fields["SystemName"] == "wsbridge-sim" and login.fields["SessionID"] > 0
        with pytest.raises(CtpError) as info:
            await adapter.login({"BrokerID": "9999", "UserID": "alice", "Password": "x"}, "")
        assert info.value.error_id == 3

        ex = adapter.exchange
        iid = next(i for i, inst in ex.instruments.items() if inst.product_id == "rb")
        ask = levels(ex.depth(iid), "Ask")[0][0]
        reply = await adapter.request(login, Request(
            "ReqOrderInsert", order(iid, "0", "0", ask, 1), request_id=1))
        assert reply.silent
        statuses = [c[2]["OrderStatus"] for c in sink.of("order")]
        assert statuses == ["a", "3", "0"]
        ((_, account, trade),) = sink.of("trade")
        assert account == "9999:alice" and trade["Volume"] == 1

        low = ex.depth(iid)["LowerLimitPrice"]
        await adapter.request(login, Request("ReqOrderInsert", order(iid, "0", "0", low, 1)))
        resting = sink.of("order")[-1][2]
        assert resting["OrderStatus"] == "3"
        reply = await adapter.request(login, Request("ReqOrderAction", {
            "OrderSysID": resting["OrderSysID"], "ExchangeID": "SHFE", "ActionFlag": "0"}))
        assert reply.silent and sink.of("order")[-1][2]["OrderStatus"] == "5"

        reply = await adapter.request(login, Request(
            "ReqOrderInsert", order("nope", "0", "0", 1.0, 1)))
        assert reply.error.error_id == 16 and reply.rows[0]["InstrumentID"] == "nope"
        await sink.wait(lambda: sink.of("push"))
        (_, account, msg_type, body_key, body, rsp_info) = sink.of("push")[0]
        assert (account, msg_type, body_key) == ("9999:alice", "ErrRtnOrderInsert", "InputOrder")
        assert body["InstrumentID"] == "nope"
        assert rsp_info["ErrorID"] == 16

        reply = await adapter.request(login, Request("ReqOrderAction", {"OrderSysID": "404"}))
        assert reply.error.error_id == 25
        await sink.wait(lambda: len(sink.of("push")) == 2)
        assert sink.of("push")[1][2:4] == ("ErrRtnOrderAction", "OrderAction")
    finally:
        await adapter.stop()


async def test_td_queries_password_and_unsupported_requests():
    adapter, _ = _adapter("td", FastClock())
    await adapter.start()
    try:
        login = await adapter.login({"UserID": "bob", "Password": "pw"}, "")
        assert login.account == "9999:bob"  # BrokerID defaults to the configured one
        reply = await adapter.request(login, Request("ReqQryTradingAccount", {}))
        assert reply.rows[0]["Balance"] == 10_000_000 and reply.error is None
        reply = await adapter.request(login, Request("ReqQryInvestorPosition", {}))
        assert reply.rows == []
        reply = await adapter.request(login, Request(
            "ReqUserPasswordUpdate", {"OldPassword": "pw", "NewPassword": "pw2"}))
        assert reply.rows[0]["NewPassword"] == "pw2"
        with pytest.raises(CtpError) as info:
            await adapter.request(login, Request(
                "ReqUserPasswordUpdate", {"OldPassword": "pw", "NewPassword": "x"}))
        assert info.value.error_id == 14
        assert adapter.supports("ReqQryMaxOrderVolume") and not adapter.supports("ReqQryNotice")
        with pytest.raises(CtpError) as info:
            await adapter.request(login, Request("ReqQryNotice", {}))
        assert info.value.error_id == -404
        assert adapter.health()["backend"] == "sim"
    finally:
        await adapter.stop()


async def test_td_resting_orders_fill_in_the_background():
    clock = FastClock()
    adapter, sink = _adapter("td", clock)
    await adapter.start()
    try:
        login = await adapter.login({"UserID": "carol", "Password": "pw"}, "")
        ex = adapter.exchange
        iid = next(i for i, inst in ex.instruments.items() if inst.product_id == "m")
        tick = ex.instruments[iid].spec.tick
        asks = [levels(ex.depth(iid, clock.t - k * 0.5), "Ask")[0][0] for k in (0, 1)]
        limit = min(asks) - tick
        await adapter.request(login, Request("ReqOrderInsert", order(iid, "0", "0", limit, 1)))
        assert sink.of("order")[-1][2]["OrderStatus"] == "3"
        await sink.wait(lambda: sink.of("trade"))
        ((_, _, trade),) = sink.of("trade")
        assert trade["Price"] == limit
        assert sink.of("order")[-1][2]["OrderStatus"] == "0"
    finally:
        await adapter.stop()


async def test_md_accepts_any_login_and_pushes_ticks_per_bucket():
    clock = FastClock()
    adapter, sink = _adapter("md", clock)
    await adapter.start()
    try:
        login = await adapter.login({"UserID": "", "Password": ""}, "")
        assert login.fields["TradingDay"] == "20260310"
        ex = adapter.exchange
        iid = next(iter(ex.instruments))
        result = await adapter.subscribe([iid, "nope"])
        assert result[iid] is None and result["nope"].error_id == 16
        await sink.wait(lambda: len(sink.of("tick")) >= 3)
        ticks = [c[1] for c in sink.of("tick")]
        assert {t["InstrumentID"] for t in ticks} == {iid}
        assert all(set(t) == set(ctp.blank("DepthMarketData")) for t in ticks)
        stamps = [(t["UpdateTime"], t["UpdateMillisec"]) for t in ticks]
        assert len(set(stamps)) == len(stamps)  # one tick per bucket
        # md and a td engine agree on the book of the same bucket.
        first = ticks[0]
        assert ex.depth(iid, clock.t)["PreSettlementPrice"] == first["PreSettlementPrice"]
        await adapter.unsubscribe([iid])
        assert not adapter.supports("ReqOrderInsert")
        reply = await adapter.request(login, Request("ReqUserLogout", {}))
        assert set(reply.rows[0]) == set(ctp.blank("UserLogout"))
    finally:
        await adapter.stop()


async def test_md_ticks_match_what_a_td_exchange_computes():
    clock = FastClock()
    md, md_sink = _adapter("md", clock)
    td, _ = _adapter("td", clock)
    await md.start()
    await td.start()
    try:
        iid = next(iter(md.exchange.instruments))
        await md.subscribe([iid])
        await md_sink.wait(lambda: len(md_sink.of("tick")) >= 5)
        for _, tick in md_sink.of("tick"):
            hh, mm, ss = map(int, tick["UpdateTime"].split(":"))
            day = td.exchange.calendar.day(int(clock.t * 1000))
            t = day.start_ms / 1000 + hh * 3600 + mm * 60 + ss + tick["UpdateMillisec"] / 1000
            assert td.exchange.depth(iid, t) == tick
    finally:
        await md.stop()
        await td.stop()


def test_settings_errors_name_the_key():
    from wsbridge.config import ConfigError

    for data, key in [
        ({"seed": "x"}, "sim.seed"),
        ({"tick_interval_ms": 0}, "sim.tick_interval_ms"),
        ({"bogus": 1}, "sim.bogus"),
        ({"instruments": {"rb": {"tick": -1}}}, "sim.instruments.rb.tick"),
        ({"instruments": {"rb": {"nonsense": 1}}}, "sim.instruments.rb.nonsense"),
        ({"instruments": {"X": {"kind": "bond"}}}, "sim.instruments.X.kind"),
    ]:
        with pytest.raises(ConfigError) as info:
            SimAdapter.parse_settings(data, "sim")
        assert str(info.value).startswith(key), (data, str(info.value))
    settings = SimAdapter.parse_settings({}, "sim")
    assert settings.tick_interval_ms == 500 and settings.broker_id == "9999"
    assert SimAdapter.parse_settings({"broker_id": 9999}, "sim").broker_id == "9999"
