"""The SQLite journal: close and reopen an exchange on the same file, nothing is lost."""

from __future__ import annotations

import sqlite3

import pytest

from wsbridge.simulators.exchange import Exchange, OrderRejected

from .helpers import TICK, FakeClock, future_id, last_order, levels, make_settings, order, trades

QUERIES = (
    "ReqQryOrder", "ReqQryTrade", "ReqQryInvestorPosition", "ReqQryInvestorPositionDetail",
    "ReqQryTradingAccount",
)


def _snapshot(ex, session) -> dict:
    return {q: ex.query(session, q, {}) for q in QUERIES}


def test_everything_survives_a_restart(tmp_path):
    path = str(tmp_path / "sim.sqlite")
    clock = FakeClock()
    ex = Exchange(make_settings(), path, clock)
    alice = ex.login("9999", "alice", "pw")
    rb, m = future_id(ex, "rb"), future_id(ex, "m")
    ex.insert_order(alice, order(rb, "0", "0", levels(ex.depth(rb), "Ask")[0][0], 3))
    ex.insert_order(alice, order(m, "1", "0", levels(ex.depth(m), "Bid")[0][0], 2))
    ex.insert_order(alice, order(rb, "1", "3", ex.depth(rb)["UpperLimitPrice"], 1))  # rests
    before = _snapshot(ex, alice)
    ex.close()

    again = Exchange(make_settings(), path, clock)
    alice2 = again.login("9999", "alice", "pw")
    assert alice2.session_id > alice.session_id
    assert _snapshot(again, alice2) == before
    with pytest.raises(OrderRejected) as info:  # refs of the old session are still taken
        again.insert_order(alice, order(rb, "0", "0", again.depth(rb)["LastPrice"], 1,
                                        OrderRef="1"))
    assert info.value.error_id == 22
    again.close()


def test_a_resting_order_still_fills_after_a_restart(tmp_path):
    path = str(tmp_path / "sim.sqlite")
    clock = FakeClock()
    ex = Exchange(make_settings(), path, clock)
    session = ex.login("9999", "alice", "pw")
    iid = future_id(ex, "rb")
    tick = ex.instruments[iid].spec.tick
    limit = min(levels(ex.depth(iid, clock.t - k * TICK), "Ask")[0][0] for k in (0, 1)) - tick
    placed = last_order(ex.insert_order(session, order(iid, "0", "0", limit, 1)))
    assert placed["OrderStatus"] == "3"
    ex.close()  # like kill -9: everything acknowledged is already committed

    k = next(k for k in range(1, 5000)
             if levels(ex.depth(iid, clock.t + k * TICK), "Ask")[0][0] <= limit)
    restarted = Exchange(make_settings(), path, clock)
    clock.tick(k)
    fills = trades(restarted.advance())
    assert [(t["OrderSysID"], t["Price"]) for t in fills] == [(placed["OrderSysID"], limit)]
    session = restarted.login("9999", "alice", "pw")
    (row,) = restarted.query(session, "ReqQryInvestorPosition", {})
    assert row["Position"] == 1
    restarted.close()


def test_a_restart_on_a_later_day_rolls_the_day(tmp_path):
    path = str(tmp_path / "sim.sqlite")
    clock = FakeClock()
    ex = Exchange(make_settings(), path, clock)
    session = ex.login("9999", "alice", "pw")
    iid = future_id(ex, "rb")
    ex.insert_order(session, order(iid, "0", "0", levels(ex.depth(iid), "Ask")[0][0], 2))
    ex.close()
    clock.tick(3 * 86400 / TICK)
    later = Exchange(make_settings(), path, clock)
    assert later.trading_day == "20260313"
    session = later.login("9999", "alice", "pw")
    (row,) = later.query(session, "ReqQryInvestorPosition", {})
    assert (row["PositionDate"], row["Position"], row["YdPosition"]) == ("2", 2, 2)
    assert later.query(session, "ReqQryOrder", {}) == []
    later.close()


def test_the_journal_is_wal_sqlite_committed_per_operation(tmp_path):
    path = str(tmp_path / "sim.sqlite")
    ex = Exchange(make_settings(), path, FakeClock())
    session = ex.login("9999", "alice", "pw")
    iid = future_id(ex, "rb")
    ex.insert_order(session, order(iid, "0", "0", ex.depth(iid)["LowerLimitPrice"], 1))
    # Another connection sees the order at once: it was committed before the events.
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 1
    db.close()
    ex.close()


_CHILD = """
import sys, time
from wsbridge.simulators.exchange import Exchange, SimSettings
path, start = sys.argv[1], float(sys.argv[2])
ex = Exchange(SimSettings(utc_offset_minutes=480, journal=None), path, lambda: start)
session = ex.login("9999", "alice", "pw")
iid = next(i for i, inst in ex.instruments.items() if inst.product_id == "rb")
low = ex.depth(iid)["LowerLimitPrice"]
ask = ex.depth(iid)["AskPrice1"]
for n in range(5):
    events = ex.insert_order(session, {
        "InstrumentID": iid, "Direction": "0", "CombOffsetFlag": "0",
        "LimitPrice": ask if n == 0 else low, "VolumeTotalOriginal": 1})
    print("ack", [e.body["OrderSysID"] for e in events if e.msg_type == "RtnOrder"][-1],
          flush=True)
time.sleep(60)
"""


def test_kill_9_loses_no_acknowledged_order(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from .helpers import START

    path = str(tmp_path / "sim.sqlite")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, path, str(START)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        acked = [child.stdout.readline().split()[1] for _ in range(5)]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    ex = Exchange(make_settings(), path, FakeClock())
    session = ex.login("9999", "alice", "pw")
    assert [o["OrderSysID"] for o in ex.query(session, "ReqQryOrder", {})] == acked
    (row,) = ex.query(session, "ReqQryInvestorPosition", {})
    assert row["Position"] == 1
    assert len(ex.query(session, "ReqQryTrade", {})) >= 1
    ex.close()


def test_a_currency_added_to_the_config_funds_existing_accounts(tmp_path):
    path = str(tmp_path / "sim.sqlite")
    no_usd = make_settings(instruments={"AAPL": None, "MSFT": None})
    ex = Exchange(no_usd, path, FakeClock())
    session = ex.login("9999", "alice", "pw")
    assert ex.query(session, "ReqQryTradingAccount", {"CurrencyID": "USD"}) == []
    ex.close()
    ex = Exchange(make_settings(), path, FakeClock())
    session = ex.login("9999", "alice", "pw")
    (usd,) = ex.query(session, "ReqQryTradingAccount", {"CurrencyID": "USD"})
    assert usd["Balance"] == usd["Available"] == 10_000_000
    ex.close()
