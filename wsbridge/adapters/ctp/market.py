"""The md side: one CTP market-data connection shared by every md client.

The server already reference-counts SubscribeMarketData across clients, so the feed sees
each instrument once; it remembers what is live upstream and subscribes it again after
a reconnect. For-quote subscriptions (SubscribeForQuoteRsp) are reference-counted here,
per client, and their RtnForQuoteRsp pushes go only to the clients holding them.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from wsbridge.adapters.base import Reply, Sink, ThreadBridge
from wsbridge.adapters.ctp.api import return_code_error
from wsbridge.adapters.ctp.config import CtpSettings
from wsbridge.adapters.ctp.spi import Event
from wsbridge.adapters.ctp.upstream import Pending, Upstream, rsp_error
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

SUBSCRIPTION_ANSWERS = {
    "SubscribeMarketData": "RspSubMarketData",
    "UnSubscribeMarketData": "RspUnSubMarketData",
    "SubscribeForQuoteRsp": "RspSubForQuoteRsp",
    "UnSubscribeForQuoteRsp": "RspUnSubForQuoteRsp",
}
RELOGIN_RETRY = 5.0


class MarketFeed(Upstream):
    """The shared CThostFtdcMdApi."""

    def __init__(self, settings: CtpSettings, bridge: ThreadBridge, sink: Sink) -> None:
        super().__init__("md", settings, bridge, "shared")
        self.sink = sink
        self.login_fields: dict = {}
        self.live: set[str] = set()  # instruments subscribed upstream
        self.quote_holders: dict[str, set[str]] = {}  # for-quote: instrument -> accounts
        self._answers: dict[tuple[str, str], asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self._accounts = itertools.count(1)
        self._down_reported = False
        self._logging_in = False

    # --- connection ----------------------------------------------------------------------

    async def start(self) -> None:
        self.open()
        self._spawn(self._watch_first_connect())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_first_connect(self) -> None:
        try:
            await self.wait_connected(self.settings.connect_timeout)
        except CtpError as exc:  # CTP keeps trying; clients learn it is down meanwhile
            self.log.warning("%s", exc.error_msg)
            self._down(exc.error_msg)

    def on_connected(self) -> None:
        if not self._logging_in:
            self._spawn(self._log_in())

    async def _log_in(self) -> None:
        self._logging_in = True
        try:
            await self._log_in_until_done()
        finally:
            self._logging_in = False

    async def _log_in_until_done(self) -> None:
        s = self.settings
        while self.connected and not self.closed:
            try:
                call = self.table["ReqUserLogin"]
                reply = await self.send(call, self.build(call, {
                    "BrokerID": s.BrokerID, "UserID": s.UserID, "Password": s.Password,
                    "UserProductInfo": s.UserProductInfo}))
                if reply.error is not None:
                    raise reply.error
                self.login_fields = reply.rows[0] if reply.rows else {}
                await self._resubscribe()
            except CtpError as exc:
                if not self.connected:
                    return
                self.log.warning("md login failed: %s", exc)
                self._down(f"{errors.message(errors.FRONT_NOT_ACTIVE)}: md login failed: "
                           f"{exc.error_msg}")
                await asyncio.sleep(RELOGIN_RETRY)
                continue
            self._set_ready(True)
            self.log.info("md front connected and logged in (%d instruments live)",
                          len(self.live))
            if self._down_reported:
                self._down_reported = False
                self.sink.on_status(True, "CTP md front connected: logged in and "
                                    f"{len(self.live)} instruments subscribed again")
            return

    async def _resubscribe(self) -> None:
        for method, instruments in (("SubscribeMarketData", sorted(self.live)),
                                    ("SubscribeForQuoteRsp", sorted(self.quote_holders))):
            if instruments:
                outcome = await self._subscription(method, instruments)
                failed = {i: e for i, e in outcome.items() if e is not None}
                if failed:
                    self.log.warning("%s failed again after reconnect: %s", method, failed)

    def on_disconnected(self, reason: int, was_connected: bool) -> None:
        self._set_ready(False)
        error = CtpError(errors.FRONT_NOT_ACTIVE, f"{errors.message(errors.FRONT_NOT_ACTIVE)}: "
                         f"CTP md front disconnected (reason 0x{reason:x}); reconnecting")
        for future in self._answers.values():
            if not future.done():
                future.set_result(error)
        self._answers.clear()
        if was_connected:
            self.log.warning("md front disconnected (reason 0x%x)", reason)
            self._down(error.error_msg)

    def _down(self, text: str) -> None:
        self._down_reported = True
        self.sink.on_status(False, text)

    def not_ready_reason(self) -> str:
        fronts = ", ".join(self.settings.front("md"))
        return (f"the CTP md front {fronts} is not connected and logged in (waited "
                f"{self.settings.connect_timeout:g}s)")

    # --- clients -------------------------------------------------------------------------

    async def login(self, fields: dict) -> tuple[str, dict]:
        """An md client's login: the shared connection must be up; no upstream call."""
        await self.wait_ready()
        account = f"md:{next(self._accounts)}"
        body = {**self.login_fields, "UserID": fields.get("UserID") or
                self.login_fields.get("UserID", "")}
        return account, body

    async def subscribe(self, instruments: list[str]) -> dict[str, CtpError | None]:
        if not self.ready:
            error = CtpError(errors.FRONT_NOT_ACTIVE, f"{errors.message(errors.FRONT_NOT_ACTIVE)}"
                             ": the CTP md front is not connected")
            return {i: error for i in instruments}
        outcome = await self._subscription("SubscribeMarketData", instruments)
        self.live.update(i for i, e in outcome.items() if e is None)
        return outcome

    async def unsubscribe(self, instruments: list[str]) -> None:
        self.live.difference_update(instruments)
        if self.ready:
            await self._subscription("UnSubscribeMarketData", instruments)

    async def for_quotes(self, account: str, msg_type: str, instruments: list[str]) -> Reply:
        """SubscribeForQuoteRsp / UnSubscribeForQuoteRsp for one client."""
        subscribe = msg_type == "SubscribeForQuoteRsp"
        if subscribe:
            fresh = [i for i in dict.fromkeys(instruments) if i not in self.quote_holders]
            if fresh and not self.ready:
                raise CtpError(errors.FRONT_NOT_ACTIVE, "the CTP md front is not connected")
            outcome = await self._subscription(msg_type, fresh) if fresh else {}
            for instrument in instruments:
                if outcome.get(instrument) is None:
                    self.quote_holders.setdefault(instrument, set()).add(account)
        else:
            outcome = {}
            released = self.release_quotes(account, instruments)
            if released and self.ready:
                await self._subscription(msg_type, released)
        errors_ = [e for e in outcome.values() if e is not None]
        return Reply(rows=[{"InstrumentID": i} for i in instruments],
                     error=errors_[0] if errors_ else None)

    async def drop_quotes(self, account: str) -> None:
        """A client left: release its for-quote holds upstream where it was the last."""
        released = self.release_quotes(account)
        if released and self.ready:
            await self._subscription("UnSubscribeForQuoteRsp", released)

    def release_quotes(self, account: str, instruments: list[str] | None = None) -> list[str]:
        """Drop an account's for-quote holds; returns the instruments nobody holds now."""
        released = []
        for instrument in list(self.quote_holders if instruments is None else instruments):
            holders = self.quote_holders.get(instrument)
            if holders is None or account not in holders:
                continue
            holders.discard(account)
            if not holders:
                del self.quote_holders[instrument]
                released.append(instrument)
        return released

    async def _subscription(self, method: str, instruments: list[str]) \
            -> dict[str, CtpError | None]:
        """Call a subscription method and collect its per-instrument answers."""
        loop = asyncio.get_running_loop()
        answer = SUBSCRIPTION_ANSWERS[method]
        waits = {}
        for instrument in instruments:
            future = loop.create_future()
            self._answers[(answer, instrument)] = future
            waits[instrument] = future
        code = getattr(self.api, method)([i.encode("gb18030") for i in instruments],
                                         len(instruments))
        if code != 0:
            for instrument in instruments:
                self._answers.pop((answer, instrument), None)
            error = return_code_error(code)
            return {i: error for i in instruments}
        done, _ = await asyncio.wait(waits.values(), timeout=self.settings.request_timeout)
        out: dict[str, CtpError | None] = {}
        for instrument, future in waits.items():
            if future in done:
                out[instrument] = future.result()
            else:
                self._answers.pop((answer, instrument), None)
                out[instrument] = CtpError(
                    errors.REQUEST_FAILED,
                    f"no {answer} for {instrument} within {self.settings.request_timeout:g}s")
        return out

    # --- callbacks -----------------------------------------------------------------------

    def on_response(self, event: Event, pending: Pending | None) -> bool:
        if event.msg_type in ("RspSubMarketData", "RspUnSubMarketData", "RspSubForQuoteRsp",
                              "RspUnSubForQuoteRsp"):
            instrument = (event.body or {}).get("InstrumentID", "")
            future = self._answers.pop((event.msg_type, instrument), None)
            if future is not None and not future.done():
                future.set_result(rsp_error(event.rsp_info))
            return True
        return super().on_response(event, pending)

    def on_push(self, event: Event) -> None:
        if event.msg_type == "RtnDepthMarketData":
            self.sink.on_tick(event.body)
        elif event.msg_type == "RtnForQuoteRsp" and event.body is not None:
            for account in self.quote_holders.get(event.body.get("InstrumentID", ""), ()):
                self.sink.on_push(account, event.msg_type, event.body_key, event.body)
        else:
            self.sink.on_push(None, event.msg_type, event.body_key, event.body, event.rsp_info)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await super().close()

    def health(self) -> dict:
        return {"connected": self.connected, "ready": self.ready, "instruments": len(self.live),
                "for_quote_instruments": len(self.quote_holders),
                "disconnects": self.disconnects}
