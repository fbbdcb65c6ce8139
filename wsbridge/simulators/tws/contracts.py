"""The simulator's security master: IB contract definitions for the sim exchange's
instruments, and IB's rules for matching a requested contract against them.

Stocks are listed the way IB lists them: a US stock routes SMART with its listing
exchange as primaryExchange; an HKEX stock is symbol ``700`` on SEHK in HKD; Shanghai /
Shenzhen A-shares trade through Stock Connect (SEHKNTL / SEHKSZSE, CNH). Futures keep
their exchange's name (SHFE, CFFEX, ...) with the InstrumentID as localSymbol.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from wsbridge.simulators.tws.requests import ContractQuery

#: CTP ExchangeID -> (IB routing exchange, IB primary exchange, currency) for stocks.
STOCK_VENUES: dict[str, tuple[str, str, str]] = {
    "NASDAQ": ("SMART", "NASDAQ", "USD"),
    "NYSE": ("SMART", "NYSE", "USD"),
    "ARCA": ("SMART", "ARCA", "USD"),
    "AMEX": ("SMART", "AMEX", "USD"),
    "HKEX": ("SEHK", "SEHK", "HKD"),
    "SSE": ("SEHKNTL", "SEHKNTL", "CNH"),
    "SZSE": ("SEHKSZSE", "SEHKSZSE", "CNH"),
}
#: IB aliases accepted for a primary exchange in requests.
ALIASES = {"ISLAND": "NASDAQ"}
TIME_ZONES = {"USD": "US/Eastern", "HKD": "Asia/Hong_Kong", "CNH": "Asia/Shanghai",
              "CNY": "Asia/Shanghai"}


@dataclass(frozen=True, slots=True)
class ContractDef:
    """One tradable contract as TWS describes it, tied to a sim exchange instrument."""

    instrument_id: str  # the sim exchange's name for it
    exchange_id: str
    con_id: int
    symbol: str
    sec_type: str
    exchange: str  # default routing
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str
    long_name: str
    min_tick: float
    multiplier: str = ""
    last_trade: str = ""
    lot: int = 1  # minimum size and size increment (HKEX board lots)

    @property
    def valid_exchanges(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e for e in (self.exchange, self.primary_exchange) if e))

    @property
    def time_zone(self) -> str:
        return TIME_ZONES.get(self.currency, "UTC")


def con_id_for(exchange_id: str, instrument_id: str) -> int:
    """A stable contract id: the same instrument keeps it across restarts."""
    return 100_000 + zlib.crc32(f"{exchange_id}:{instrument_id}".encode()) % 900_000_000


def define(instrument: dict) -> ContractDef:
    """The IB definition of a sim exchange instrument (a CThostFtdcInstrumentField dict)."""
    instrument_id = instrument["InstrumentID"]
    exchange_id = instrument.get("ExchangeID", "")
    name = instrument.get("InstrumentName", "") or instrument_id
    tick = float(instrument.get("PriceTick", 0.01) or 0.01)
    con_id = con_id_for(exchange_id, instrument_id)
    lot = int(instrument.get("MinLimitOrderVolume", 1) or 1)
    venue = STOCK_VENUES.get(exchange_id)
    if venue is not None:
        routing, primary, currency = venue
        symbol = str(int(instrument_id)) if exchange_id == "HKEX" else instrument_id
        return ContractDef(instrument_id, exchange_id, con_id, symbol, "STK", routing,
                           primary, currency, symbol, symbol, name, tick, lot=lot)
    product = instrument.get("ProductID", "") or instrument_id.rstrip("0123456789")
    expire = instrument.get("ExpireDate", "")
    multiple = instrument.get("VolumeMultiple", 1) or 1
    return ContractDef(instrument_id, exchange_id, con_id, product, "FUT", exchange_id,
                       exchange_id, "CNY", instrument_id, product, name, tick,
                       multiplier=str(int(multiple)), last_trade=expire, lot=lot)


class SecurityMaster:
    """Every contract the simulator trades, found the way TWS finds them."""

    def __init__(self, definitions: list[ContractDef]) -> None:
        self.definitions = definitions
        self._by_con_id = {d.con_id: d for d in definitions}
        self._by_instrument = {d.instrument_id: d for d in definitions}

    def by_con_id(self, con_id: int) -> ContractDef | None:
        return self._by_con_id.get(con_id)

    def by_instrument(self, instrument_id: str) -> ContractDef | None:
        return self._by_instrument.get(instrument_id)

    def find(self, query: ContractQuery) -> list[ContractDef]:
        """Every definition a request's contract fields match (IB: blank matches all)."""
        if query.con_id:
            found = self._by_con_id.get(query.con_id)
            return [found] if found is not None and _fits(found, query) else []
        if not query.symbol and not query.local_symbol:
            return []
        return [d for d in self.definitions if _fits(d, query)]


def _fits(d: ContractDef, q: ContractQuery) -> bool:
    def same(want: str, have: str) -> bool:
        return not want or want.upper() == have.upper()

    exchange = ALIASES.get(q.exchange.upper(), q.exchange.upper())
    primary = ALIASES.get(q.primary_exchange.upper(), q.primary_exchange.upper())
    return (same(q.symbol, d.symbol) and same(q.sec_type, d.sec_type)
            and same(q.currency, d.currency) and same(q.local_symbol, d.local_symbol)
            and same(q.trading_class, d.trading_class)
            and (not exchange or exchange in d.valid_exchanges)
            and same(primary, d.primary_exchange)
            and (not q.last_trade or d.last_trade.startswith(q.last_trade))
            and (not q.multiplier or q.multiplier == d.multiplier))
