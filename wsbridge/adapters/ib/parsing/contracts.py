"""InstrumentID / ExchangeID <-> IB contract, both ways.

A CTP client names an instrument by InstrumentID (and optionally ExchangeID); IB names it
by a Contract (symbol, security type, routing exchange, primary exchange, currency). Stocks
map by rule (see :data:`EXCHANGES`); anything else (futures, ETFs with odd symbols, ...)
comes from the ``contracts:`` table of the config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """The IB contract fields that identify an instrument (ib-insync's Contract names)."""

    symbol: str
    secType: str = "STK"  # IB's field names: the spec splats into Contract
    exchange: str = "SMART"
    primaryExchange: str = ""
    currency: str = "USD"
    lastTradeDateOrContractMonth: str = ""
    multiplier: str = ""
    localSymbol: str = ""
    tradingClass: str = ""
    conId: int = 0

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``ib_insync.Contract``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Venue:
    """How stocks of one CTP ExchangeID are routed at IB."""

    exchange: str  # IB routing destination
    primary: str  # IB primary (listing) exchange
    currency: str


#: CTP ExchangeID -> IB routing for its stocks.
EXCHANGES: dict[str, Venue] = {
    "NASDAQ": Venue("SMART", "NASDAQ", "USD"),
    "NYSE": Venue("SMART", "NYSE", "USD"),
    "ARCA": Venue("SMART", "ARCA", "USD"),
    "AMEX": Venue("SMART", "AMEX", "USD"),
    "BATS": Venue("SMART", "BATS", "USD"),
    "US": Venue("SMART", "", "USD"),
    "HKEX": Venue("SEHK", "SEHK", "HKD"),
    "SSE": Venue("SEHKNTL", "SEHKNTL", "CNH"),  # Shanghai via Stock Connect
    "SZSE": Venue("SEHKSZSE", "SEHKSZSE", "CNH"),  # Shenzhen via Stock Connect
}

#: IB exchange names (primary or routing) -> CTP ExchangeID.
IB_EXCHANGES: dict[str, str] = {
    "NASDAQ": "NASDAQ", "ISLAND": "NASDAQ",
    "NYSE": "NYSE", "ARCA": "ARCA", "AMEX": "AMEX", "BATS": "BATS",
    "SEHK": "HKEX", "SEHKNTL": "SSE", "SEHKSZSE": "SZSE",
}

_HK = re.compile(r"^\d{1,5}$")
_A_SHARE = re.compile(r"^\d{6}$")


@dataclass(slots=True)
class ContractTable:
    """Explicit InstrumentID -> contract entries from the config, looked up both ways."""

    entries: dict[str, ContractSpec] = field(default_factory=dict)

    @classmethod
    def from_config(cls, data: Mapping[str, Mapping[str, Any]]) -> ContractTable:
        """``{InstrumentID: {symbol, sec_type, exchange, ...}}`` (keys as in docs/ib.md)."""
        names = {"sec_type": "secType", "primary_exchange": "primaryExchange",
                 "last_trade": "lastTradeDateOrContractMonth", "local_symbol": "localSymbol",
                 "trading_class": "tradingClass", "con_id": "conId"}
        entries = {}
        for instrument, spec in data.items():
            values = {names.get(k, k): v for k, v in spec.items()}
            values.setdefault("symbol", instrument)
            if "multiplier" in values:
                values["multiplier"] = str(values["multiplier"])
            entries[str(instrument)] = ContractSpec(**values)
        return cls(entries)

    def lookup(self, contract: Any) -> str | None:
        """The configured InstrumentID whose entry matches an IB contract, if any."""
        for instrument, spec in self.entries.items():
            if spec.conId and spec.conId == getattr(contract, "conId", 0):
                return instrument
            if (spec.symbol == contract.symbol and spec.secType == contract.secType
                    and spec.lastTradeDateOrContractMonth[:6]
                    == contract.lastTradeDateOrContractMonth[:6]
                    and (not spec.currency or spec.currency == contract.currency)):
                return instrument
        return None


def guess_exchange(instrument_id: str) -> str:
    """The CTP ExchangeID a bare InstrumentID most likely belongs to.

    Five digits or fewer: Hong Kong (00700); six digits: Shanghai (6xxxxx, 9xxxxx) or
    Shenzhen; anything else: a US ticker.
    """
    if _HK.match(instrument_id) and len(instrument_id) <= 5:
        return "HKEX"
    if _A_SHARE.match(instrument_id):
        return "SSE" if instrument_id[0] in "69" else "SZSE"
    return "US"


def to_contract(instrument_id: str, exchange_id: str = "",
                table: ContractTable | None = None) -> ContractSpec:
    """The IB contract for a CTP instrument; CtpError 16 when none can be named."""
    instrument_id = instrument_id.strip()
    if not instrument_id:
        raise CtpError(errors.INSTRUMENT_NOT_FOUND, detail="InstrumentID is empty")
    if table is not None and instrument_id in table.entries:
        return table.entries[instrument_id]
    exchange_id = exchange_id.strip().upper() or guess_exchange(instrument_id)
    venue = EXCHANGES.get(exchange_id)
    if venue is None:
        raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                       f"CTP:Instrument not found: no IB routing for ExchangeID {exchange_id!r}"
                       " (add the instrument to ib.contracts)")
    symbol = instrument_id.upper()
    if venue.exchange == "SEHK":
        if not symbol.isdigit():
            raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                           f"CTP:Instrument not found: {instrument_id!r} is not an HKEX code")
        symbol = str(int(symbol))  # IB names 00700 as 700
    return ContractSpec(symbol=symbol, secType="STK", exchange=venue.exchange,
                        primaryExchange=venue.primary, currency=venue.currency)


def exchange_of(contract: Any) -> str:
    """The CTP ExchangeID of an IB contract (IB's own name when there is no CTP one)."""
    for name in (contract.primaryExchange, contract.exchange):
        if name and name != "SMART":
            return IB_EXCHANGES.get(name, name)
    return "US" if contract.currency == "USD" else ""


def instrument_of(contract: Any, table: ContractTable | None = None) -> tuple[str, str]:
    """(InstrumentID, ExchangeID) for an IB contract: the inverse of :func:`to_contract`."""
    exchange_id = exchange_of(contract)
    if table is not None:
        configured = table.lookup(contract)
        if configured is not None:
            return configured, exchange_id
    if contract.secType not in ("STK", ""):
        return contract.localSymbol or contract.symbol, exchange_id
    if exchange_id == "HKEX" and contract.symbol.isdigit():
        return contract.symbol.zfill(5), exchange_id
    return contract.symbol, exchange_id
