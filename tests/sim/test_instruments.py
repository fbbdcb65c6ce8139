"""Instruments: contracts named from the trading day, stocks, extras, config overrides."""

from __future__ import annotations

import pytest

from wsbridge.config import ConfigError
from wsbridge.simulators.exchange import Exchange, ctp
from wsbridge.simulators.exchange.instruments import Catalog

from .helpers import FakeClock, make_settings


def test_futures_list_the_next_delivery_months(ex):
    ids = set(ex.instruments)
    assert {"rb2604", "rb2605", "au2604", "IF2604", "m2605", "TA604", "TA605"} <= ids
    assert "rb2603" not in ids
    rb = ex.instruments["rb2604"].fields
    assert set(rb) == set(ctp.blank("Instrument"))
    assert (rb["ExchangeID"], rb["ProductID"], rb["ProductClass"]) == ("SHFE", "rb", "1")
    assert (rb["VolumeMultiple"], rb["PriceTick"], rb["PositionDateType"]) == (10, 1.0, "1")
    assert (rb["DeliveryYear"], rb["DeliveryMonth"], rb["ExpireDate"]) == (2026, 4, "20260415")
    assert rb["InstrumentName"] == "螺纹钢2604" and rb["IsTrading"] == 1
    assert ex.instruments["m2605"].fields["PositionDateType"] == "2"
    assert ex.instruments["au2604"].fields["PriceTick"] == 0.02


def test_contract_names_follow_the_calendar_across_a_year_end():
    catalog = Catalog(make_settings(contract_months=3), "20261120")
    assert {"rb2612", "rb2701", "rb2702", "TA612", "TA701", "TA702"} <= set(catalog.instruments)


def test_stocks_are_long_only_lots_in_their_currency(ex):
    expected = {"AAPL": ("NASDAQ", 1, "USD"), "MSFT": ("NASDAQ", 1, "USD"),
                "00700": ("HKEX", 100, "HKD"), "09988": ("HKEX", 100, "HKD"),
                "600000": ("SSE", 100, "CNY"), "000001": ("SZSE", 100, "CNY")}
    for iid, (exchange, lot, currency) in expected.items():
        inst = ex.instruments[iid]
        assert inst.is_stock and inst.exchange_id == exchange
        assert inst.fields["MinLimitOrderVolume"] == lot and inst.spec.currency == currency
        assert inst.fields["LongMarginRatio"] == 1.0 and inst.fields["VolumeMultiple"] == 1


def test_unlisted_contracts_of_a_known_product_are_still_known(ex):
    assert ex.find("rb2601").fields["DeliveryMonth"] == 1
    assert ex.find("TA512").fields["DeliveryYear"] == 2025
    assert ex.find("rb26") is None and ex.find("zz2604") is None


def test_extra_instruments_are_deterministic():
    a = Exchange(make_settings(extra_instruments=50), clock=FakeClock())
    b = Exchange(make_settings(extra_instruments=50), clock=FakeClock())
    extras = [i for i in a.instruments if i.startswith("SIM")]
    assert extras[:2] == ["SIM0001", "SIM0002"] and len(extras) == 50
    for iid in extras:
        assert a.instruments[iid].fields == b.instruments[iid].fields
        assert a.depth(iid) == b.depth(iid)
        inst = a.instruments[iid]
        assert inst.on_grid(a.depth(iid)["LastPrice"])
    assert {x["ExchangeID"] for x in a.catalog.exchanges()} >= {"SIM"}


def test_overrides_add_and_remove_products():
    settings = make_settings(instruments={
        "rb": {"price": 5000.0, "margin": 0.2},
        "AAPL": None,
        "NVDA": {"kind": "stock", "exchange": "NASDAQ", "currency": "USD", "price": 120.0,
                 "tick": 0.01},
        "sc": {"exchange": "INE", "name": "原油", "price": 600.0, "tick": 0.1,
               "multiplier": 1000},
    })
    ex = Exchange(settings, clock=FakeClock())
    assert "AAPL" not in ex.instruments and "NVDA" in ex.instruments
    assert ex.instruments["rb2604"].fields["LongMarginRatio"] == 0.2
    assert 3500 < ex.depth("rb2604")["PreSettlementPrice"] < 7000
    assert ex.instruments["sc2604"].split_today  # INE follows SHFE's position rules
    products = {p["ProductID"]: p for p in ex.catalog.products()}
    assert products["sc"]["ProductName"] == "原油" and products["NVDA"]["ProductClass"] == "4"


@pytest.mark.parametrize(("override", "key"), [
    ({"price": 0}, "price"), ({"tick": 0}, "tick"), ({"margin": 1.5}, "margin"),
    ({"limit": 1}, "limit"), ({"lot": 0}, "lot"), ({"tick": 1000.0}, "tick"),
])
def test_bad_product_settings_name_the_key(override, key):
    with pytest.raises(ConfigError) as info:
        Exchange(make_settings(instruments={"rb": override}), clock=FakeClock())
    assert str(info.value).startswith(f"sim.instruments.rb.{key}")
