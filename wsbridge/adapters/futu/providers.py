"""Instruments: the InstrumentID/ExchangeID <-> Futu code map, and instrument queries.

A Futu code names the market but not the US listing exchange, so the provider remembers
the ExchangeID of every code it has seen (from a client's request or from Futu's stock
basic info) and reports it back; a US code never seen reports ExchangeID ``US`` until
:meth:`InstrumentProvider.resolve` has looked it up.
"""

from __future__ import annotations

import logging

from wsbridge.adapters.futu.config import FutuSettings
from wsbridge.adapters.futu.connection import Link
from wsbridge.adapters.futu.parsing import codes
from wsbridge.adapters.futu.parsing.instruments import instrument
from wsbridge.protocol import catalog
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.futu")

SNAPSHOT_BATCH = 400  # codes per get_market_snapshot (OpenD's limit)
STATE_BATCH = 400
PRECISE_EXCHANGES = frozenset({"HKEX", "NASDAQ", "NYSE", "AMEX", "SSE", "SZSE"})
GLOBAL_STATE_KEY = {"HK": "market_hk", "US": "market_us", "SH": "market_sh", "SZ": "market_sz"}
EXCHANGE_NAMES = {"HKEX": "Hong Kong Exchanges", "NASDAQ": "NASDAQ",
                  "NYSE": "New York Stock Exchange", "AMEX": "NYSE American",
                  "SSE": "Shanghai Stock Exchange", "SZSE": "Shenzhen Stock Exchange"}


def frame_rows(frame: object) -> list[dict]:
    """futu-api's DataFrame answers as a list of row dicts."""
    to_dict = getattr(frame, "to_dict", None)
    return to_dict("records") if to_dict is not None else []


class InstrumentProvider:
    """Code mapping with memory, plus the instrument/market queries built on a quote link."""

    def __init__(self, quote: Link, settings: FutuSettings) -> None:
        self.quote = quote
        self.settings = settings
        self._exchange: dict[str, str] = {}  # Futu code -> ExchangeID

    def code(self, instrument_id: str, exchange_id: str = "") -> str:
        """The Futu code for a client's InstrumentID/ExchangeID (CtpError(16) if none)."""
        code = codes.to_futu(instrument_id, exchange_id)
        exchange = (exchange_id or "").strip().upper()
        if exchange in PRECISE_EXCHANGES:
            self._exchange.setdefault(code, exchange)
        return code

    def ctp_id(self, code: str) -> tuple[str, str]:
        """(InstrumentID, ExchangeID) for a Futu code."""
        return codes.from_futu(code, self._exchange.get(code))

    def unknown(self, code_list: list[str]) -> list[str]:
        """Codes whose ExchangeID is not known yet (US codes never looked up)."""
        return [c for c in dict.fromkeys(code_list)
                if c not in self._exchange and c.startswith("US.")]

    async def resolve(self, code_list: list[str]) -> None:
        """Learn the listing exchange of US codes not seen before; never raises."""
        missing = self.unknown(code_list)
        if not missing:
            return
        try:
            await self.basic_info(missing)
        except CtpError as exc:
            log.info("cannot look up %s: %s", ", ".join(missing), exc)
            for code in missing:  # do not ask again for every push
                self._exchange.setdefault(code, codes.MARKET_EXCHANGE["US"])

    async def basic_info(self, code_list: list[str] | None = None,
                         market: str = "HK") -> list[dict]:
        """Stock basic info rows (for ``code_list``, or every stock of ``market``)."""
        frame = await self.quote.call("get_stock_basicinfo", market, "STOCK",
                                      code_list or None)
        rows = frame_rows(frame)
        for row in rows:
            code = str(row.get("code", ""))
            market_of = code.partition(".")[0]
            self._exchange[code] = codes.exchange_of_type(
                str(row.get("exchange_type", "")), market_of)
        return rows

    async def snapshots(self, code_list: list[str]) -> dict[str, dict]:
        """Market snapshot rows by code."""
        out: dict[str, dict] = {}
        for start in range(0, len(code_list), SNAPSHOT_BATCH):
            frame = await self.quote.call("get_market_snapshot",
                                          code_list[start:start + SNAPSHOT_BATCH])
            out.update((str(r["code"]), r) for r in frame_rows(frame))
        return out

    async def market_states(self, code_list: list[str]) -> dict[str, str]:
        """Futu MarketState name by code: per stock for a few, per market for many."""
        if len(code_list) <= STATE_BATCH:
            frame = await self.quote.call("get_market_state", code_list)
            return {str(r["code"]): str(r["market_state"]) for r in frame_rows(frame)}
        state = await self.quote.call("get_global_state")
        return {c: str(state.get(GLOBAL_STATE_KEY.get(c.partition(".")[0], ""), ""))
                for c in code_list}

    async def instruments(self, query: dict) -> list[dict]:
        """Instrument rows for a QryInstrument: one stock, one exchange, or every market."""
        instrument_id = (query.get("InstrumentID") or "").strip()
        exchange_id = (query.get("ExchangeID") or "").strip().upper()
        if instrument_id:
            infos = await self.basic_info([self.code(instrument_id, exchange_id)])
        elif exchange_id:
            market = codes.EXCHANGE_MARKET.get(exchange_id)
            if market is None:
                return []
            infos = await self.basic_info(market=market)
        else:
            infos = []
            for market in self.settings.markets:
                infos.extend(await self.basic_info(market=market))
        code_list = [str(r["code"]) for r in infos]
        if not code_list:
            return []
        snapshots = await self.snapshots(code_list) if len(code_list) <= SNAPSHOT_BATCH else {}
        states = await self.market_states(code_list)
        rows = []
        for info in infos:
            code = str(info["code"])
            iid, exchange = self.ctp_id(code)
            if exchange_id and exchange_id in PRECISE_EXCHANGES and exchange != exchange_id:
                continue
            rows.append(instrument(info, iid, exchange, code.partition(".")[0],
                                   snapshots.get(code), states.get(code, "")))
        return rows

    def exchanges(self, query: dict) -> list[dict]:
        """Exchange rows for the configured markets."""
        wanted = (query.get("ExchangeID") or "").strip().upper()
        ids: list[str] = []
        for market in self.settings.markets:
            ids.extend(["NASDAQ", "NYSE", "AMEX"] if market == "US"
                       else [codes.MARKET_EXCHANGE[market]])
        return [catalog.filled("Exchange", {"ExchangeID": x, "ExchangeName": EXCHANGE_NAMES[x],
                                            "ExchangeProperty": "0"})
                for x in ids if not wanted or x == wanted]
