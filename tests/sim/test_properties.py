"""Property tests: random order flow keeps the exchange's books consistent.

A hypothesis state machine inserts, cancels, lets time pass (across day rolls) and restarts
from the journal, and after every step checks the DESIGN.md invariants and an independent
profit calculation from the trade list.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from wsbridge.simulators.exchange import Exchange, OrderRejected

from .helpers import TICK, FakeClock, make_settings

PRODUCTS = ("rb", "IF", "m", "AAPL", "00700")
USERS = ("alice", "bob")
approx = pytest.approx


class ExchangeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sim-prop-"))
        self.path = str(self.dir / "sim.sqlite")
        self.clock = FakeClock()
        self.ex = Exchange(make_settings(), self.path, self.clock)
        self.sessions = {u: self.ex.login("9999", u, "pw") for u in USERS}
        self.iids = [
            next(i for i, inst in self.ex.instruments.items() if inst.product_id == p)
            for p in PRODUCTS
        ]

    def teardown(self) -> None:
        self.ex.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- rules ----------------------------------------------------------------------

    @rule(
        user=st.sampled_from(USERS),
        which=st.integers(0, len(PRODUCTS) - 1),
        buy=st.booleans(),
        offset=st.sampled_from("00001134"),
        kind=st.sampled_from(["limit", "limit", "limit", "market", "fak", "fok"]),
        ticks=st.sampled_from([-4, -2, -1, -1, 0, 0, 1, 2, 4]),
        lots=st.integers(1, 8),
        wait=st.integers(0, 3),
    )
    def insert(self, user, which, buy, offset, kind, ticks, lots, wait):
        self.clock.tick(wait)
        iid = self.iids[which]
        inst = self.ex.lookup(iid)
        depth = self.ex.depth(iid)
        touch = depth["AskPrice1" if buy else "BidPrice1"] or depth["LastPrice"]
        price = inst.price(inst.ticks(touch) + ticks)
        price = min(max(price, depth["LowerLimitPrice"]), depth["UpperLimitPrice"])
        body = {
            "InstrumentID": iid, "Direction": "0" if buy else "1", "CombOffsetFlag": offset,
            "LimitPrice": price, "VolumeTotalOriginal": lots * inst.spec.lot,
            "OrderPriceType": "1" if kind == "market" else "2",
            "TimeCondition": "1" if kind in ("fak", "fok", "market") else "3",
            "VolumeCondition": "3" if kind == "fok" else "1",
        }
        session = self.sessions[user]
        before = self._books(session)
        try:
            self.ex.insert_order(session, body)
        except OrderRejected as exc:
            assert exc.error_id in (15, 30, 31, 50, 51), exc
            assert self._books(session) == before

    @rule(user=st.sampled_from(USERS), pick=st.integers(0, 50), by_ref=st.booleans())
    def cancel(self, user, pick, by_ref):
        session = self.sessions[user]
        orders = self.ex.query(session, "ReqQryOrder", {})
        if not orders:
            return
        o = orders[pick % len(orders)]
        body = (
            {"FrontID": o["FrontID"], "SessionID": o["SessionID"], "OrderRef": o["OrderRef"]}
            if by_ref else {"OrderSysID": o["OrderSysID"], "ExchangeID": o["ExchangeID"]}
        )
        try:
            self.ex.cancel_order(session, body)
        except OrderRejected as exc:
            assert exc.error_id == 26 and o["OrderStatus"] in "05"
        else:
            assert o["OrderStatus"] in "13"

    @rule(buckets=st.integers(1, 300))
    def advance(self, buckets):
        self.clock.tick(buckets)
        self.ex.advance()

    @rule(buckets=st.integers(1, 20), rounds=st.integers(1, 10))
    def advance_bucket_by_bucket(self, buckets, rounds):
        for _ in range(rounds):
            self.clock.tick(buckets)
            self.ex.advance()

    @rule()
    def next_day(self):
        self.clock.tick(86400 / TICK)
        self.ex.advance()

    @rule()
    def restart(self):
        before = {u: self._books(s) for u, s in self.sessions.items()}
        self.ex.close()
        self.ex = Exchange(make_settings(), self.path, self.clock)
        self.sessions = {u: self.ex.login("9999", u, "pw") for u in USERS}
        assert {u: self._books(s) for u, s in self.sessions.items()} == before

    def _books(self, session) -> tuple:
        q = self.ex.query
        return (
            q(session, "ReqQryOrder", {}), q(session, "ReqQryTrade", {}),
            q(session, "ReqQryInvestorPosition", {}),
            [q(session, "ReqQryTradingAccount", {"CurrencyID": c})
             for c in ("CNY", "USD", "HKD")],
        )

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def money_identities_hold(self):
        for session in self.sessions.values():
            for currency in ("CNY", "USD", "HKD"):
                (a,) = self.ex.query(session, "ReqQryTradingAccount", {"CurrencyID": currency})
                assert a["Balance"] == approx(
                    a["PreBalance"] + a["CloseProfit"] + a["PositionProfit"] - a["Commission"]
                )
                assert a["Available"] == approx(
                    a["Balance"] - a["CurrMargin"] - a["FrozenMargin"] - a["FrozenCommission"]
                )
                assert a["FrozenMargin"] >= -1e-6 and a["FrozenCommission"] >= -1e-6

    @invariant()
    def no_fill_exceeds_its_order(self):
        for session in self.sessions.values():
            traded = defaultdict(int)
            for t in self.ex.query(session, "ReqQryTrade", {}):
                traded[t["OrderSysID"]] += t["Volume"]
                inst = self.ex.lookup(t["InstrumentID"])
                assert inst.on_grid(t["Price"])
            for o in self.ex.query(session, "ReqQryOrder", {}):
                assert traded[o["OrderSysID"]] == o["VolumeTraded"]
                assert o["VolumeTraded"] + o["VolumeTotal"] == o["VolumeTotalOriginal"]
                assert 0 <= o["VolumeTraded"] <= o["VolumeTotalOriginal"]
                if o["OrderStatus"] == "0":
                    assert o["VolumeTotal"] == 0

    @invariant()
    def positions_are_never_negative_and_match_the_lots(self):
        for session in self.sessions.values():
            rows = self.ex.query(session, "ReqQryInvestorPosition", {})
            held = defaultdict(int)
            for r in rows:
                assert r["Position"] >= 0 and r["TodayPosition"] >= 0 and r["YdPosition"] >= 0
                assert r["TodayPosition"] <= r["Position"]
                frozen = r["LongFrozen"] + r["ShortFrozen"]
                assert 0 <= frozen <= r["Position"]
                held[(r["InstrumentID"], r["PosiDirection"])] += r["Position"]
                if self.ex.lookup(r["InstrumentID"]).is_stock:
                    assert r["PosiDirection"] == "2"
            lots = defaultdict(int)
            for d in self.ex.query(session, "ReqQryInvestorPositionDetail", {}):
                assert d["Volume"] > 0
                lots[(d["InstrumentID"], "2" if d["Direction"] == "0" else "3")] += d["Volume"]
            assert {k: v for k, v in held.items() if v} == dict(lots)

    @invariant()
    def nothing_stays_frozen_without_working_orders(self):
        for session in self.sessions.values():
            working = [o for o in self.ex.query(session, "ReqQryOrder", {})
                       if o["OrderStatus"] in "13a"]
            if working:
                continue
            for currency in ("CNY", "USD", "HKD"):
                (a,) = self.ex.query(session, "ReqQryTradingAccount", {"CurrencyID": currency})
                assert a["FrozenMargin"] == 0 and a["FrozenCommission"] == 0
            for r in self.ex.query(session, "ReqQryInvestorPosition", {}):
                assert r["LongFrozen"] == r["ShortFrozen"] == 0

    @invariant()
    def profit_agrees_with_the_trade_list(self):
        """Balance - PreBalance + Commission = mark-to-market of today's trades and of the
        positions held at the start of the day (from their settlement price)."""
        for session in self.sessions.values():
            expected = defaultdict(float)
            for t in self.ex.query(session, "ReqQryTrade", {}):
                inst = self.ex.lookup(t["InstrumentID"])
                mark = self.ex.depth(inst.id)["LastPrice"]
                sign = 1 if t["Direction"] == "0" else -1
                expected[inst.spec.currency] += (
                    sign * (mark - t["Price"]) * t["Volume"] * inst.spec.multiplier
                )
            for r in self.ex.query(session, "ReqQryInvestorPosition", {}):
                inst = self.ex.lookup(r["InstrumentID"])
                depth = self.ex.depth(inst.id)
                sign = 1 if r["PosiDirection"] == "2" else -1
                expected[inst.spec.currency] += (
                    sign * (depth["LastPrice"] - depth["PreSettlementPrice"])
                    * r["YdPosition"] * inst.spec.multiplier
                )
            for currency in ("CNY", "USD", "HKD"):
                (a,) = self.ex.query(session, "ReqQryTradingAccount", {"CurrencyID": currency})
                got = a["Balance"] - a["PreBalance"] + a["Commission"]
                assert got == approx(expected[currency], abs=1e-4, rel=1e-9)


TestExchangeMachine = ExchangeMachine.TestCase
TestExchangeMachine.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
