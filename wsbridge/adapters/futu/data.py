"""Market data (md): Futu QUOTE + ORDER_BOOK subscriptions -> RtnDepthMarketData.

Each instrument is subscribed once upstream to both the basic quote and the order book;
futu-api calls the handlers on its callback thread, the rows hop to the event loop through
the :class:`~wsbridge.adapters.base.ThreadBridge`, and every push re-emits the instrument's
merged DepthMarketData (last quote + last book) once a first basic quote is in. A client
may subscribe by ``00700`` or by ``HK.00700``; ticks carry the InstrumentID exactly as it
was subscribed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wsbridge.adapters.base import Sink, ThreadBridge
from wsbridge.adapters.futu import sdk
from wsbridge.adapters.futu.connection import Link
from wsbridge.adapters.futu.parsing.quotes import depth_market_data
from wsbridge.adapters.futu.providers import InstrumentProvider, frame_rows
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.futu")

SUBTYPES = ["QUOTE", "ORDER_BOOK"]
UNSUBSCRIBE_RETRY = 65.0  # OpenD refuses to drop a subscription younger than a minute


def install_handlers(ctx: Any, data: FutuData, bridge: ThreadBridge) -> None:
    """Attach quote and order book push handlers to a quote context (futu's threads)."""
    futu = sdk.load()

    class QuoteHandler(futu.StockQuoteHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, frame = super().on_recv_rsp(rsp_pb)
            if ret == futu.RET_OK:
                bridge.post(data.on_quotes, frame_rows(frame))
            return ret, frame

    class BookHandler(futu.OrderBookHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, book = super().on_recv_rsp(rsp_pb)
            if ret == futu.RET_OK:
                bridge.post(data.on_book, book)
            return ret, book

    ctx.set_handler(QuoteHandler())
    ctx.set_handler(BookHandler())


class FutuData:
    """The md side: subscriptions, the latest quote and book per code, tick emission."""

    def __init__(self, sink: Sink, quote: Link, provider: InstrumentProvider) -> None:
        self.sink = sink
        self.quote = quote
        self.provider = provider
        self.aliases: dict[str, set[str]] = {}  # Futu code -> InstrumentIDs subscribed
        self.quotes: dict[str, dict] = {}
        self.books: dict[str, dict] = {}
        self._retries: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()

    # --- subscriptions (event loop) -------------------------------------------------------

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, CtpError | None]:
        """Subscribe instruments upstream; a per-instrument outcome (None is success)."""
        outcome: dict[str, CtpError | None] = {}
        wanted: dict[str, list[str]] = {}
        for iid in instrument_ids:
            try:
                wanted.setdefault(self.provider.code(iid), []).append(iid)
            except CtpError as exc:
                outcome[iid] = exc
        fresh = [code for code in wanted if code not in self.aliases]
        failed: dict[str, CtpError] = {}
        if fresh:
            try:
                await self._subscribe(fresh)
            except CtpError as exc:
                if exc.error_id == errors.FRONT_NOT_ACTIVE or len(fresh) == 1:
                    failed = dict.fromkeys(fresh, exc)
                else:  # OpenD refuses a batch for one bad code: find which
                    for code in fresh:
                        try:
                            await self._subscribe([code])
                        except CtpError as one:
                            failed[code] = one
            await self.provider.resolve([c for c in fresh if c not in failed])
        for code, ids in wanted.items():
            error = failed.get(code)
            for iid in ids:
                outcome[iid] = error
                if error is None:
                    self.aliases.setdefault(code, set()).add(iid)
                    retry = self._retries.pop(code, None)
                    if retry is not None:
                        retry.cancel()
            if error is None and code in self.quotes:
                self._emit(code, ids)  # already live: the subscriber gets a tick at once
        return outcome

    async def _subscribe(self, code_list: list[str]) -> None:
        await self.quote.call("subscribe", code_list, SUBTYPES, is_first_push=True,
                              subscribe_push=True)

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        """Stop ticks for instruments nobody wants; upstream too once a code has no alias."""
        dropped = []
        for iid in instrument_ids:
            try:
                code = self.provider.code(iid)
            except CtpError:
                continue
            ids = self.aliases.get(code)
            if ids is None:
                continue
            ids.discard(iid)
            if not ids:
                del self.aliases[code]
                self.quotes.pop(code, None)
                self.books.pop(code, None)
                dropped.append(code)
        if dropped:
            await self._unsubscribe(dropped)

    async def _unsubscribe(self, code_list: list[str]) -> None:
        code_list = [c for c in code_list if c not in self.aliases]
        if not code_list:
            return
        try:
            await self.quote.call("unsubscribe", code_list, SUBTYPES)
        except CtpError as exc:
            log.info("unsubscribe %s failed (%s); retrying in %gs", code_list, exc,
                     UNSUBSCRIBE_RETRY)
            loop = asyncio.get_running_loop()
            for code in code_list:
                self._retries[code] = loop.call_later(UNSUBSCRIBE_RETRY, self._retry, code)

    def _retry(self, code: str) -> None:
        self._retries.pop(code, None)
        task = asyncio.get_running_loop().create_task(self._unsubscribe([code]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()
        for task in self._tasks:
            task.cancel()

    # --- pushes (event loop, via the ThreadBridge) ----------------------------------------

    def on_quotes(self, rows: list[dict]) -> None:
        for row in rows:
            code = str(row.get("code", ""))
            if code in self.aliases:
                self.quotes[code] = row
                self._emit(code, self.aliases[code])

    def on_book(self, book: dict) -> None:
        code = str(book.get("code", ""))
        if code in self.aliases:
            self.books[code] = book
            if code in self.quotes:  # a book alone has no last price yet: wait for one
                self._emit(code, self.aliases[code])

    def _emit(self, code: str, instrument_ids: set[str] | list[str]) -> None:
        _, exchange = self.provider.ctp_id(code)
        quote, book = self.quotes.get(code), self.books.get(code)
        for iid in instrument_ids:
            self.sink.on_tick(depth_market_data(iid, exchange, quote, book))
