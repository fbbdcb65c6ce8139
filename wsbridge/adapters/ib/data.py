"""Market data (md): one reqMktData per subscribed instrument, tickers -> RtnDepthMarketData."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from wsbridge.adapters.base import Sink
from wsbridge.adapters.ib.connection import Connection
from wsbridge.adapters.ib.parsing.market import ticker_to_depth
from wsbridge.adapters.ib.providers import Instrument, InstrumentProvider
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.ib.data")


def _quoted(price: float) -> bool:
    return math.isfinite(price) and price > 0


class MarketData:
    """Subscriptions kept across reconnects; every ticker update becomes one tick."""

    def __init__(self, connection: Connection, provider: InstrumentProvider,
                 sink: Sink) -> None:
        self.connection = connection
        self.provider = provider
        self.sink = sink
        self._subscribed: dict[str, Instrument] = {}  # InstrumentID -> instrument
        self._by_ticker: dict[int, list[str]] = {}  # id(Ticker) -> InstrumentIDs
        connection.ib.pendingTickersEvent += self._on_tickers

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, CtpError | None]:
        async def one(instrument_id: str) -> CtpError | None:
            try:
                instrument = await self.provider.resolve(instrument_id)
                self._start(instrument_id, instrument)
            except CtpError as exc:
                return exc
            self._subscribed[instrument_id] = instrument
            return None

        outcome = await asyncio.gather(*(one(i) for i in instrument_ids))
        return dict(zip(instrument_ids, outcome, strict=True))

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        for instrument_id in instrument_ids:
            instrument = self._subscribed.pop(instrument_id, None)
            if instrument is None:
                continue
            if not any(i.contract is instrument.contract for i in self._subscribed.values()) \
                    and self.connection.ready:
                self.connection.ib.cancelMktData(instrument.contract)

    async def restore(self) -> None:
        """After a reconnect: TWS forgot every subscription, so ask again."""
        self._by_ticker.clear()
        for instrument_id, instrument in list(self._subscribed.items()):
            try:
                self._start(instrument_id, instrument)
            except CtpError as exc:
                log.warning("resubscribing %s failed: %s", instrument_id, exc)

    def _start(self, instrument_id: str, instrument: Instrument) -> None:
        ib = self.connection.require()
        ticker = ib.reqMktData(instrument.contract)
        names = self._by_ticker.setdefault(id(ticker), [])
        if instrument_id not in names:
            names.append(instrument_id)

    def _on_tickers(self, tickers: Iterable[Any]) -> None:
        now = datetime.now()
        day = now.strftime("%Y%m%d")
        for ticker in tickers:
            if not any(_quoted(p) for p in (ticker.bid, ticker.ask, ticker.last)):
                continue  # nothing a client could act on yet
            for instrument_id in self._by_ticker.get(id(ticker), ()):
                instrument = self._subscribed.get(instrument_id)
                if instrument is None:
                    continue
                self.sink.on_tick(ticker_to_depth(
                    ticker, (instrument_id, instrument.ids[1]), trading_day=day,
                    local_time=now))

    async def snapshot(self, instrument_id: str, exchange_id: str = "") -> dict:
        """One DepthMarketData now (ReqQryDepthMarketData), subscribed or not."""
        instrument = await self.provider.resolve(instrument_id, exchange_id)
        ib = self.connection.require()
        (ticker,) = await self.connection.call(ib.reqTickersAsync, instrument.contract)
        now = datetime.now()
        return ticker_to_depth(ticker, (instrument_id, instrument.ids[1]),
                               trading_day=now.strftime("%Y%m%d"), local_time=now)
