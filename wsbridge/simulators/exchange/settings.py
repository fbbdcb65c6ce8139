"""What the simulated exchange is configured with: the ``sim:`` section of a config file.

Every key has a default, so an empty section runs the default market. ``instruments`` maps a
product (futures: ``rb``; stocks: ``AAPL``) to overrides of its :class:`ProductSpec` keys;
an unknown name adds a product, ``null`` removes a default one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from wsbridge.config import ConfigError, from_dict


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One product: a futures product (contracts generated per month) or one stock."""

    kind: Literal["future", "stock"] = "future"
    exchange: str = "SIM"
    name: str = ""
    currency: str = "CNY"
    price: float = 100.0  # reference price the market wanders around
    tick: float = 1.0  # PriceTick
    multiplier: int = 1  # VolumeMultiple
    lot: int = 1  # orders must be a multiple of this (stocks: board lot)
    margin: float = 0.1  # Long/ShortMarginRatio (stocks: 1.0)
    limit: float = 0.1  # daily price limit as a fraction of the previous settlement
    volatility: float = 0.015  # typical daily move (fraction)
    depth_volume: int = 50  # typical lots shown per book level
    max_limit_volume: int = 1000  # MaxLimitOrderVolume (in lots of ``lot``)
    max_market_volume: int = 100  # MaxMarketOrderVolume (in lots of ``lot``)
    open_ratio_by_money: float = 0.0
    open_ratio_by_volume: float = 0.0
    close_ratio_by_money: float = 0.0
    close_ratio_by_volume: float = 0.0
    close_today_ratio_by_money: float = 0.0
    close_today_ratio_by_volume: float = 0.0


@dataclass(slots=True)
class SimSettings:
    """The embedded exchange's settings (and the ``sim`` back end's)."""

    seed: int = 1  # the market is a pure function of seed, instrument and time bucket
    tick_interval_ms: int = 500  # one market bucket (one md tick)
    initial_funds: float = 10_000_000.0  # per currency, for a new account
    broker_id: str = "9999"
    front_id: int = 1
    journal: str | None = "var/sim.sqlite"  # td state; null keeps it in memory
    utc_offset_minutes: int | None = None  # trading-day zone; null: the host's local time
    contract_months: int = 2  # futures contracts listed per product (next N months)
    extra_instruments: int = 0  # synthetic SIM0001.. instruments for load tests
    instruments: dict = field(default_factory=dict)  # product -> ProductSpec overrides
    require_settlement_confirm: bool = False  # CTP's ErrorID 42 before the first order
    max_catchup_buckets: int = 120  # buckets matched when advance() runs late


def _cn_future(exchange: str, name: str, **spec: object) -> dict:
    return {"kind": "future", "exchange": exchange, "name": name, "currency": "CNY", **spec}


def _stock(exchange: str, name: str, currency: str, **spec: object) -> dict:
    base = {
        "kind": "stock", "exchange": exchange, "name": name, "currency": currency,
        "multiplier": 1, "margin": 1.0, "volatility": 0.02, "max_market_volume": 10_000,
        "max_limit_volume": 100_000,
    }
    return {**base, **spec}


DEFAULT_PRODUCTS: dict[str, dict] = {
    "rb": _cn_future(
        "SHFE", "螺纹钢", price=3300.0, tick=1.0, multiplier=10, margin=0.10, limit=0.07,
        volatility=0.015, depth_volume=60, max_limit_volume=500, max_market_volume=30,
        open_ratio_by_money=0.0001, close_ratio_by_money=0.0001,
        close_today_ratio_by_money=0.0001,
    ),
    "au": _cn_future(
        "SHFE", "黄金", price=620.0, tick=0.02, multiplier=1000, margin=0.12, limit=0.06,
        volatility=0.01, depth_volume=8, max_limit_volume=500, max_market_volume=30,
        open_ratio_by_volume=10.0, close_ratio_by_volume=10.0,
    ),
    "IF": _cn_future(
        "CFFEX", "沪深300股指", price=3900.0, tick=0.2, multiplier=300, margin=0.12, limit=0.10,
        volatility=0.013, depth_volume=5, max_limit_volume=20, max_market_volume=10,
        open_ratio_by_money=0.000023, close_ratio_by_money=0.000023,
        close_today_ratio_by_money=0.00023,
    ),
    "m": _cn_future(
        "DCE", "豆粕", price=2900.0, tick=1.0, multiplier=10, margin=0.08, limit=0.06,
        volatility=0.012, depth_volume=80, max_limit_volume=1000, max_market_volume=200,
        open_ratio_by_volume=1.5, close_ratio_by_volume=1.5, close_today_ratio_by_volume=1.5,
    ),
    "TA": _cn_future(
        "CZCE", "PTA", price=4800.0, tick=2.0, multiplier=5, margin=0.07, limit=0.06,
        volatility=0.015, depth_volume=60, max_limit_volume=1000, max_market_volume=200,
        open_ratio_by_volume=3.0, close_ratio_by_volume=3.0,
    ),
    "AAPL": _stock(
        "NASDAQ", "Apple Inc.", "USD", price=225.0, tick=0.01, limit=0.2, depth_volume=300,
        open_ratio_by_volume=0.005, close_ratio_by_volume=0.005,
        close_today_ratio_by_volume=0.005,
    ),
    "MSFT": _stock(
        "NASDAQ", "Microsoft Corp.", "USD", price=420.0, tick=0.01, limit=0.2,
        depth_volume=200, open_ratio_by_volume=0.005, close_ratio_by_volume=0.005,
        close_today_ratio_by_volume=0.005,
    ),
    "00700": _stock(
        "HKEX", "腾讯控股", "HKD", price=480.0, tick=0.2, lot=100, limit=0.2, depth_volume=40,
        open_ratio_by_money=0.0003, close_ratio_by_money=0.0003,
        close_today_ratio_by_money=0.0003,
    ),
    "09988": _stock(
        "HKEX", "阿里巴巴-W", "HKD", price=110.0, tick=0.1, lot=100, limit=0.2, depth_volume=60,
        open_ratio_by_money=0.0003, close_ratio_by_money=0.0003,
        close_today_ratio_by_money=0.0003,
    ),
    "600000": _stock(
        "SSE", "浦发银行", "CNY", price=11.5, tick=0.01, lot=100, limit=0.10,
        volatility=0.015, depth_volume=300, open_ratio_by_money=0.0003,
        close_ratio_by_money=0.0003, close_today_ratio_by_money=0.0003,
    ),
    "000001": _stock(
        "SZSE", "平安银行", "CNY", price=12.0, tick=0.01, lot=100, limit=0.10,
        volatility=0.015, depth_volume=300, open_ratio_by_money=0.0003,
        close_ratio_by_money=0.0003, close_today_ratio_by_money=0.0003,
    ),
}

EXCHANGE_NAMES: dict[str, str] = {
    "SHFE": "上海期货交易所",
    "INE": "上海国际能源交易中心",
    "CFFEX": "中国金融期货交易所",
    "DCE": "大连商品交易所",
    "CZCE": "郑州商品交易所",
    "GFEX": "广州期货交易所",
    "NASDAQ": "NASDAQ",
    "NYSE": "New York Stock Exchange",
    "HKEX": "香港交易所",
    "SSE": "上海证券交易所",
    "SZSE": "深圳证券交易所",
    "SIM": "wsbridge simulated exchange",
}


def product_specs(settings: SimSettings, where: str = "sim") -> dict[str, ProductSpec]:
    """The configured products: defaults merged with ``settings.instruments``, checked.

    Raises ConfigError naming the key (under ``where``) for anything out of range.
    """
    raw: dict[str, dict] = {k: dict(v) for k, v in DEFAULT_PRODUCTS.items()}
    for name, override in settings.instruments.items():
        key = str(name)
        if override is None:
            raw.pop(key, None)
            continue
        if not isinstance(override, dict):
            raise ConfigError(f"{where}.instruments.{key}: expected a mapping or null")
        raw[key] = {**raw.get(key, {}), **override}
    specs = {}
    for key, values in raw.items():
        path = f"{where}.instruments.{key}"
        spec = from_dict(ProductSpec, values, path)
        _check_spec(spec, path)
        specs[key] = spec
    return specs


def _check_spec(spec: ProductSpec, path: str) -> None:
    checks = [
        (spec.price > 0, "price", "must be > 0"),
        (spec.tick > 0, "tick", "must be > 0"),
        (spec.multiplier >= 1, "multiplier", "must be >= 1"),
        (spec.lot >= 1, "lot", "must be >= 1"),
        (0 < spec.margin <= 1, "margin", "must be in (0, 1]"),
        (0 < spec.limit < 1, "limit", "must be in (0, 1)"),
        (0 <= spec.volatility < 1, "volatility", "must be in [0, 1)"),
        (spec.depth_volume >= 1, "depth_volume", "must be >= 1"),
        (spec.max_limit_volume >= 1, "max_limit_volume", "must be >= 1"),
        (spec.max_market_volume >= 1, "max_market_volume", "must be >= 1"),
        (spec.price >= 10 * spec.tick, "tick", "must be at most a tenth of price"),
    ]
    for ok, key, problem in checks:
        if not ok:
            raise ConfigError(f"{path}.{key}: {problem}")
    rates = [name for name in ProductSpec.__dataclass_fields__ if "_ratio_by_" in name]
    for name in rates:
        if getattr(spec, name) < 0:
            raise ConfigError(f"{path}.{name}: must be >= 0")


def check_settings(settings: SimSettings, where: str = "sim") -> SimSettings:
    """Validate ranges ``from_dict`` cannot express; returns ``settings``."""
    checks = [
        (1 <= settings.tick_interval_ms <= 60_000, "tick_interval_ms", "must be 1..60000"),
        (settings.initial_funds > 0, "initial_funds", "must be > 0"),
        (bool(settings.broker_id), "broker_id", "must not be empty"),
        (1 <= settings.contract_months <= 12, "contract_months", "must be 1..12"),
        (0 <= settings.extra_instruments <= 100_000, "extra_instruments", "must be 0..100000"),
        (settings.max_catchup_buckets >= 1, "max_catchup_buckets", "must be >= 1"),
        (
            settings.utc_offset_minutes is None or abs(settings.utc_offset_minutes) < 24 * 60,
            "utc_offset_minutes", "must be within a day",
        ),
    ]
    for ok, key, problem in checks:
        if not ok:
            raise ConfigError(f"{where}.{key}: {problem}")
    product_specs(settings, where)
    return settings
