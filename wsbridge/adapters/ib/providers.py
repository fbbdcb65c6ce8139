"""Instruments: CTP InstrumentID/ExchangeID -> a qualified IB contract, and back.

A contract is qualified once (reqContractDetails) and cached for the life of the server:
contract definitions survive TWS reconnects. The cache also remembers which InstrumentID
a client used for a contract, so ticks, orders and positions come back under that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wsbridge.adapters.ib.connection import Connection
from wsbridge.adapters.ib.parsing import contracts
from wsbridge.adapters.ib.sdk import Contract
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError


@dataclass(slots=True)
class Instrument:
    """A qualified IB contract under its CTP name."""

    ids: tuple[str, str]  # (InstrumentID, ExchangeID)
    contract: Any  # ib-insync Contract, qualified (conId set)
    details: Any  # ib-insync ContractDetails


class InstrumentProvider:
    """Resolves and caches instruments for one adapter."""

    def __init__(self, connection: Connection, table: contracts.ContractTable) -> None:
        self.connection = connection
        self.table = table
        self._by_name: dict[tuple[str, str], Instrument] = {}
        self._by_con_id: dict[int, Instrument] = {}

    async def resolve(self, instrument_id: str, exchange_id: str = "") -> Instrument:
        """The instrument for a CTP name; CtpError 16 when IB does not know it."""
        instrument_id = instrument_id.strip()
        key = (instrument_id.upper(), exchange_id.strip().upper())
        found = self._by_name.get(key) or self._by_name.get((key[0], ""))
        if found is not None and (not key[1] or found.ids[1] == key[1]):
            return found
        spec = contracts.to_contract(instrument_id, exchange_id, self.table)
        ib = self.connection.require()
        details = await self.connection.call(ib.reqContractDetailsAsync,
                                             Contract(**spec.kwargs()))
        if not details:
            raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                           f"CTP:Instrument not found: IB has no contract for {instrument_id}")
        if len(details) > 1:
            exact = [d for d in details if d.contract.primaryExchange == spec.primaryExchange]
            if len(exact) != 1:
                raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                               f"CTP:Instrument not found: {instrument_id} is ambiguous at IB"
                               f" ({len(details)} contracts); add it to ib.contracts")
            details = exact
        contract = details[0].contract
        if spec.exchange == "SMART":  # keep SMART routing rather than the listing exchange
            contract.exchange = "SMART"
        ids = (instrument_id, contracts.exchange_of(contract))
        instrument = Instrument(ids, contract, details[0])
        self._by_name[(key[0], ids[1].upper())] = instrument
        self._by_name.setdefault((key[0], ""), instrument)
        self._by_con_id[contract.conId] = instrument
        return instrument

    def ids_of(self, contract: Any) -> tuple[str, str]:
        """(InstrumentID, ExchangeID) for any IB contract (one a client named, or not)."""
        known = self._by_con_id.get(contract.conId)
        if known is not None:
            return known.ids
        return contracts.instrument_of(contract, self.table)

    def known(self) -> list[Instrument]:
        """Every instrument resolved so far."""
        return list(self._by_con_id.values())
