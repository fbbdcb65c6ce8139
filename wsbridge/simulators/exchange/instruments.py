"""Listed instruments: futures contracts generated from the trading day, stocks, extras.

An :class:`Instrument` carries its CThostFtdcInstrumentField dict (``fields``) and the
simulation parameters (:class:`~.settings.ProductSpec`) the market and the checks use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from wsbridge.simulators.exchange import ctp, rng
from wsbridge.simulators.exchange.settings import (
    EXCHANGE_NAMES,
    ProductSpec,
    SimSettings,
    product_specs,
)

SPLIT_EXCHANGES = frozenset({"SHFE", "INE"})  # today/history rows, CloseToday required
UNIT_AVERAGE_EXCHANGES = frozenset({"CZCE"})  # AveragePrice not scaled by VolumeMultiple


@dataclass(frozen=True, slots=True, eq=False)
class Instrument:
    """A tradable instrument: CTP fields plus what the simulation needs."""

    id: str
    product_id: str
    spec: ProductSpec
    fields: dict = field(repr=False)  # CThostFtdcInstrumentField
    decimals: int = 0

    @property
    def exchange_id(self) -> str:
        return self.spec.exchange

    @property
    def is_stock(self) -> bool:
        return self.spec.kind == "stock"

    @property
    def split_today(self) -> bool:
        """SHFE/INE rules: separate today/history position rows, CloseToday to close today's."""
        return self.spec.exchange in SPLIT_EXCHANGES

    def ticks(self, price: float) -> int:
        """``price`` in whole ticks (rounded)."""
        return round(price / self.spec.tick)

    def price(self, ticks: int) -> float:
        """A tick count as a clean price."""
        return round(ticks * self.spec.tick, self.decimals)

    def on_grid(self, price: float) -> bool:
        """Whether ``price`` is a multiple of PriceTick."""
        q = price / self.spec.tick
        return abs(q - round(q)) < 1e-6


def _decimals(tick: float) -> int:
    exponent = Decimal(repr(tick)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _months_after(trading_day: str, count: int) -> list[tuple[int, int]]:
    year, month = int(trading_day[:4]), int(trading_day[4:6])
    out = []
    for k in range(1, count + 1):
        y, m = divmod(month - 1 + k, 12)
        out.append((year + y, m + 1))
    return out


def contract_id(product: str, spec: ProductSpec, year: int, month: int) -> str:
    """CTP naming: ``rb2701``; CZCE uses one year digit: ``TA701``."""
    if spec.exchange == "CZCE":
        return f"{product}{year % 10}{month:02d}"
    return f"{product}{year % 100:02d}{month:02d}"


def _base_fields(instrument_id: str, product: str, spec: ProductSpec) -> dict:
    return ctp.filled(
        "Instrument",
        InstrumentID=instrument_id,
        ExchangeID=spec.exchange,
        ExchangeInstID=instrument_id,
        ProductID=product,
        ProductClass=ctp.SPOT if spec.kind == "stock" else ctp.FUTURES,
        MaxMarketOrderVolume=spec.max_market_volume * spec.lot,
        MinMarketOrderVolume=spec.lot,
        MaxLimitOrderVolume=spec.max_limit_volume * spec.lot,
        MinLimitOrderVolume=spec.lot,
        VolumeMultiple=spec.multiplier,
        PriceTick=spec.tick,
        InstLifePhase="1",
        IsTrading=1,
        PositionType="2",
        PositionDateType=(
            ctp.USE_HISTORY if spec.exchange in SPLIT_EXCHANGES else ctp.NO_USE_HISTORY
        ),
        LongMarginRatio=spec.margin,
        ShortMarginRatio=spec.margin,
        MaxMarginSideAlgorithm="0",
        UnderlyingMultiple=1.0,
        CombinationType="0",
    )


def future(product: str, spec: ProductSpec, year: int, month: int) -> Instrument:
    """The futures contract of ``product`` delivering in ``year``-``month``."""
    iid = contract_id(product, spec, year, month)
    suffix = iid[len(product):]
    expire = f"{year:04d}{month:02d}15"
    open_y, open_m = year - 1, month
    fields = _base_fields(iid, product, spec)
    fields.update(
        InstrumentName=f"{spec.name or product}{suffix}",
        DeliveryYear=year,
        DeliveryMonth=month,
        CreateDate=f"{open_y:04d}{open_m:02d}01",
        OpenDate=f"{open_y:04d}{open_m:02d}16",
        ExpireDate=expire,
        StartDelivDate=f"{year:04d}{month:02d}16",
        EndDelivDate=f"{year:04d}{month:02d}20",
    )
    return Instrument(iid, product, spec, fields, _decimals(spec.tick))


def stock(symbol: str, spec: ProductSpec) -> Instrument:
    """A stock: its own product, no expiry, long-only."""
    fields = _base_fields(symbol, symbol, spec)
    fields.update(
        InstrumentName=spec.name or symbol,
        CreateDate="20000101",
        OpenDate="20000101",
        ExpireDate="99991231",
    )
    return Instrument(symbol, symbol, spec, fields, _decimals(spec.tick))


def extra(index: int, width: int, seed: int) -> Instrument:
    """Synthetic load-test instrument ``SIM0001``...: a deterministic futures-like contract."""
    (u,) = rng.uniforms(1, seed, "extra", index)
    raw = 10 ** (1 + 3 * u)  # 10 .. 10000
    tick = 10.0 ** (math.floor(math.log10(raw)) - 3)
    tick = round(tick, 6)
    price = round(round(raw / tick) * tick, 6)
    spec = ProductSpec(
        kind="future", exchange="SIM", name="", currency="CNY", price=price, tick=tick,
        multiplier=10, margin=0.1, limit=0.1, volatility=0.02, depth_volume=50,
        max_limit_volume=1000, max_market_volume=100, open_ratio_by_money=0.0001,
        close_ratio_by_money=0.0001, close_today_ratio_by_money=0.0001,
    )
    iid = f"SIM{index:0{width}d}"
    fields = _base_fields(iid, "SIM", spec)
    fields.update(
        InstrumentName=f"Synthetic {index}", CreateDate="20000101", OpenDate="20000101",
        ExpireDate="99991231",
    )
    return Instrument(iid, "SIM", spec, fields, _decimals(tick))


class Catalog:
    """Products and instruments of one exchange, listed for a trading day."""

    def __init__(self, settings: SimSettings, trading_day: str) -> None:
        self.specs = product_specs(settings)
        self._year = int(trading_day[:4])
        self.instruments: dict[str, Instrument] = {}
        months = _months_after(trading_day, settings.contract_months)
        for product, spec in self.specs.items():
            if spec.kind == "stock":
                self._add(stock(product, spec))
            else:
                for year, month in months:
                    self._add(future(product, spec, year, month))
        n = settings.extra_instruments
        width = max(4, len(str(n)))
        for index in range(1, n + 1):
            self._add(extra(index, width, settings.seed))
        if n:
            self.specs["SIM"] = self.instruments[f"SIM{1:0{width}d}"].spec

    def _add(self, instrument: Instrument) -> None:
        self.instruments[instrument.id] = instrument

    def get(self, instrument_id: str) -> Instrument | None:
        """A listed instrument, or a contract of a known futures product (e.g. from a journal)."""
        found = self.instruments.get(instrument_id)
        if found is not None:
            return found
        for product, spec in self.specs.items():
            if spec.kind != "future" or not instrument_id.startswith(product):
                continue
            digits = instrument_id[len(product):]
            if not digits.isdigit() or len(digits) != (3 if spec.exchange == "CZCE" else 4):
                continue
            year = self._year - self._year % 100 + int(digits[:-2])
            if len(digits) == 3:  # CZCE: the year nearest today ending in that digit
                year = self._year - 5 + (int(digits[0]) - self._year + 5) % 10
            month = int(digits[-2:])
            if 1 <= month <= 12:
                return future(product, spec, year, month)
        return None

    def products(self) -> list[dict]:
        """CThostFtdcProductField rows, one per product."""
        seen: dict[str, dict] = {}
        for inst in self.instruments.values():
            if inst.product_id in seen:
                continue
            spec = inst.spec
            name = "Synthetic" if inst.product_id == "SIM" else spec.name or inst.product_id
            seen[inst.product_id] = ctp.filled(
                "Product",
                ProductID=inst.product_id,
                ProductName=name,
                ExchangeID=spec.exchange,
                ProductClass=inst.fields["ProductClass"],
                VolumeMultiple=spec.multiplier,
                PriceTick=spec.tick,
                MaxMarketOrderVolume=inst.fields["MaxMarketOrderVolume"],
                MinMarketOrderVolume=inst.fields["MinMarketOrderVolume"],
                MaxLimitOrderVolume=inst.fields["MaxLimitOrderVolume"],
                MinLimitOrderVolume=inst.fields["MinLimitOrderVolume"],
                PositionType="2",
                PositionDateType=inst.fields["PositionDateType"],
                CloseDealType="0",
                TradeCurrencyID=spec.currency,
                MortgageFundUseRange="0",
                UnderlyingMultiple=1.0,
                ExchangeProductID=inst.product_id,
            )
        return list(seen.values())

    def exchanges(self) -> list[dict]:
        """CThostFtdcExchangeField rows for every exchange with a listed instrument."""
        ids = dict.fromkeys(inst.exchange_id for inst in self.instruments.values())
        return [
            ctp.filled(
                "Exchange", ExchangeID=x, ExchangeName=EXCHANGE_NAMES.get(x, x),
                ExchangeProperty="0",
            )
            for x in ids
        ]

    def currencies(self) -> list[str]:
        """Currencies of the listed instruments, CNY first when present."""
        found = dict.fromkeys(inst.spec.currency for inst in self.instruments.values())
        return sorted(found, key=lambda c: (c != "CNY", c))
