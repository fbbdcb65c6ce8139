"""The synthetic market: deterministic across processes, a sane book, CTP-complete ticks."""

from __future__ import annotations

from wsbridge.simulators.exchange import Exchange, ctp

from .helpers import START, TICK, FakeClock, make_settings


def _pair(seed: int = 1) -> tuple[Exchange, Exchange]:
    # Two independent engines stand in for the md and the td process.
    a = Exchange(make_settings(seed=seed), clock=FakeClock())
    b = Exchange(make_settings(seed=seed), clock=FakeClock(START + 3600))
    return a, b


def test_two_exchanges_with_one_seed_show_identical_books():
    a, b = _pair()
    times = [START + k * 7.3 for k in range(40)] + [START + 86400 * 3 + 1.0]
    for iid in a.instruments:
        for t in times:
            assert a.depth(iid, t) == b.depth(iid, t), (iid, t)


def test_another_seed_gives_another_market():
    a, _ = _pair(seed=1)
    c, _ = _pair(seed=2)
    iid = next(iter(a.instruments))
    assert [a.depth(iid, START + k)["LastPrice"] for k in range(20)] != [
        c.depth(iid, START + k)["LastPrice"] for k in range(20)
    ]


def test_depth_has_every_field_and_no_unset_sentinels():
    ex, _ = _pair()
    blank = ctp.blank("DepthMarketData")
    for iid in ex.instruments:
        d = ex.depth(iid, START)
        assert set(d) == set(blank)
        assert all(type(d[k]) is type(blank[k]) for k in blank), iid
        assert all(abs(v) < 1e12 for v in d.values() if isinstance(v, float))
        assert d["TradingDay"] == d["ActionDay"] == "20260310"
        assert d["UpdateTime"] == "10:00:00" and d["UpdateMillisec"] == 0


def test_book_is_sane_in_every_bucket():
    ex, _ = _pair()
    for iid, inst in ex.instruments.items():
        for k in range(0, 400, 3):
            d = ex.depth(iid, START + k * TICK)
            lo, hi = d["LowerLimitPrice"], d["UpperLimitPrice"]
            bids = [(d[f"BidPrice{n}"], d[f"BidVolume{n}"]) for n in range(1, 6)]
            asks = [(d[f"AskPrice{n}"], d[f"AskVolume{n}"]) for n in range(1, 6)]
            bids = [b for b in bids if b[1]]
            asks = [a for a in asks if a[1]]
            assert bids or asks
            if bids and asks:
                assert bids[0][0] < asks[0][0]
            assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
            assert [p for p, _ in asks] == sorted(p for p, _ in asks)
            for price, volume in bids + asks:
                assert lo <= price <= hi
                assert inst.on_grid(price)
                assert volume > 0 and volume % inst.spec.lot == 0
            last = d["LastPrice"]
            assert lo <= d["LowestPrice"] <= last <= d["HighestPrice"] <= hi
            assert inst.on_grid(last) and inst.on_grid(d["OpenPrice"])
            assert lo < d["PreSettlementPrice"] < hi


def test_running_statistics_never_go_backwards():
    ex, _ = _pair()
    iid = next(iter(ex.instruments))
    prev = ex.depth(iid, START)
    # 1500 buckets cross a dozen minute boundaries.
    for k in range(1, 1500):
        d = ex.depth(iid, START + k * TICK)
        assert d["HighestPrice"] >= prev["HighestPrice"]
        assert d["LowestPrice"] <= prev["LowestPrice"]
        assert d["Volume"] >= prev["Volume"]
        assert d["Turnover"] >= prev["Turnover"]
        assert d["OpenPrice"] == prev["OpenPrice"]
        prev = d


def test_prices_stay_near_the_reference_over_years():
    ex, _ = _pair()
    iid = next(iter(ex.instruments))
    ref = ex.instruments[iid].spec.price
    for day in range(0, 3 * 365, 30):
        settle = ex.depth(iid, START + day * 86400)["PreSettlementPrice"]
        assert 0.5 * ref < settle < 2 * ref


def test_yesterdays_close_is_todays_previous_settlement():
    ex, _ = _pair()
    for iid in ex.instruments:
        midnight = START + 14 * 3600  # 2026-03-11 00:00 at +08:00
        before = ex.depth(iid, midnight - TICK)
        after = ex.depth(iid, midnight)
        assert after["TradingDay"] == "20260311"
        # The day's path ends at the next day's settlement basis (within the last
        # bucket's wiggle), unless the day closed locked at a price limit.
        gap = abs(before["LastPrice"] - after["PreSettlementPrice"]) / after["PreSettlementPrice"]
        assert gap < 0.002 or before["LastPrice"] in (
            before["UpperLimitPrice"], before["LowerLimitPrice"]
        )


def test_stocks_have_no_open_interest_and_futures_do():
    ex, _ = _pair()
    assert ex.depth("AAPL", START)["OpenInterest"] == 0.0
    rb = next(i for i, inst in ex.instruments.items() if inst.product_id == "rb")
    assert ex.depth(rb, START)["OpenInterest"] > 0
