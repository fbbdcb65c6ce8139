"""The server's side of the adapter: routes back-end pushes to the right clients.

The :class:`Hub` is the :class:`~wsbridge.adapters.base.Sink` the adapter reports to.
Market data: one upstream subscription per instrument however many clients hold it,
each tick encoded and framed once and the same bytes queued for every subscriber.
Trading: a push for an account goes to every session logged in to that account and
to no other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.protocol.messages import encode, front_status, push
from wsbridge.server.frames import text_frame

if TYPE_CHECKING:
    from wsbridge.adapters.base import Adapter
    from wsbridge.server.metrics import Metrics
    from wsbridge.server.session import Session

log = logging.getLogger("wsbridge.hub")

_TICK_PREFIX = b'{"MsgType":"RtnDepthMarketData","DepthMarketData":'


class Hub:
    """Who is connected, who is logged in as whom, who wants which instrument."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.adapter: Adapter | None = None
        self.sessions: set[Session] = set()
        self.by_account: dict[str, set[Session]] = {}
        self.subscribers: dict[str, set[Session]] = {}  # instrument -> sessions (md)
        self.last_tick: dict[str, bytes] = {}  # instrument -> its latest frame
        self._pending: dict[str, asyncio.Future] = {}  # instrument -> upstream subscribe
        self.upstream_connected = True
        self.conflated_closed = 0  # conflation counts of sessions already gone

    # --- sessions ------------------------------------------------------------------------

    def add(self, session: Session) -> None:
        self.sessions.add(session)

    def logged_in(self, session: Session, account: str) -> None:
        self.by_account.setdefault(account, set()).add(session)

    async def remove(self, session: Session) -> None:
        """A client is gone: drop its routes and release its subscriptions."""
        self.sessions.discard(session)
        self.conflated_closed += session.outbox.conflated
        if session.login is not None:
            peers = self.by_account.get(session.login.account)
            if peers is not None:
                peers.discard(session)
                if not peers:
                    del self.by_account[session.login.account]
        if session.subscriptions:
            await self.unsubscribe(session, list(session.subscriptions))

    def conflated(self) -> int:
        return self.conflated_closed + sum(s.outbox.conflated for s in self.sessions)

    # --- Sink: what the adapter calls ----------------------------------------------------

    def on_tick(self, depth: dict) -> None:
        instrument = depth.get("InstrumentID", "")
        subscribers = self.subscribers.get(instrument)
        if not subscribers:
            return
        frame = text_frame(_TICK_PREFIX + encode(depth) + b"}")
        self.last_tick[instrument] = frame
        for session in subscribers:
            session.outbox.send_quote(instrument, frame)
        self.metrics.pushed("RtnDepthMarketData", len(subscribers))

    def on_order(self, account: str, order: dict) -> None:
        self._to_account(account, push("RtnOrder", "Order", order))

    def on_trade(self, account: str, trade: dict) -> None:
        self._to_account(account, push("RtnTrade", "Trade", trade))

    def on_push(
        self, account: str | None, msg_type: str, body_key: str | None, body: Any,
        rsp_info: dict | None = None,
    ) -> None:
        msg = push(msg_type, body_key, body, rsp_info)
        if account is None:
            self._to_sessions((s for s in self.sessions if s.login is not None), msg)
        else:
            self._to_account(account, msg)

    def on_status(self, connected: bool, error_msg: str = "") -> None:
        if connected == self.upstream_connected:
            return
        self.upstream_connected = connected
        if connected:
            log.info("upstream connected %s", error_msg)
        else:
            log.warning("upstream disconnected: %s", error_msg)
            self.metrics.reconnects.inc()
        self._to_sessions(self.sessions, front_status(connected, error_msg))

    def _to_account(self, account: str, msg: dict) -> None:
        sessions = self.by_account.get(account)
        if sessions:
            self._to_sessions(sessions, msg)

    def _to_sessions(self, sessions: Iterable[Session], msg: dict) -> None:
        frame = None
        count = 0
        for session in sessions:
            frame = frame or text_frame(encode(msg))
            session.outbox.send(frame)
            count += 1
        if count:
            self.metrics.pushed(msg["MsgType"], count)

    # --- market-data subscriptions -------------------------------------------------------

    async def subscribe(self, session: Session, instruments: list[str]) -> list[CtpError | None]:
        """Subscribe a session; the adapter is asked only for instruments nobody holds."""
        assert self.adapter is not None
        results: dict[str, CtpError | None] = {}
        limit = session.limits.max_subscriptions
        wanted = []
        for instrument in dict.fromkeys(instruments):
            if instrument in session.subscriptions:
                results[instrument] = None
            elif len(session.subscriptions) + len(wanted) >= limit:
                results[instrument] = CtpError(
                    errors.BAD_PARAMETER,
                    f"subscription limit reached: {limit} instruments per connection")
            else:
                wanted.append(instrument)
        fresh = [i for i in wanted if i not in self.subscribers and i not in self._pending]
        waits = {i: self._pending[i] for i in wanted if i in self._pending}
        for instrument in wanted:
            if instrument in self.subscribers:
                results[instrument] = None  # already live upstream
        if fresh:
            future = asyncio.get_running_loop().create_future()
            for instrument in fresh:
                self._pending[instrument] = future
                waits[instrument] = future
            try:
                outcome = await self.adapter.subscribe(fresh)
            except CtpError as exc:
                outcome = {i: exc for i in fresh}
            except Exception as exc:  # a back end bug must not kill the session
                log.exception("subscribe failed")
                outcome = {i: CtpError(errors.REQUEST_FAILED, str(exc)) for i in fresh}
            for instrument in fresh:
                del self._pending[instrument]
                if outcome.get(instrument) is None:
                    self.subscribers.setdefault(instrument, set())
            future.set_result(outcome)
        for instrument, future in waits.items():
            outcome = await asyncio.shield(future)
            results[instrument] = outcome.get(instrument)
        gone = session.closed
        for instrument in wanted:
            if results.get(instrument) is None and instrument in self.subscribers and not gone:
                self.subscribers[instrument].add(session)
                session.subscriptions.add(instrument)
        if gone:
            await self._drop_unwanted(wanted)
        return [results[i] for i in instruments]

    async def unsubscribe(self, session: Session, instruments: list[str]) -> None:
        """Release a session's instruments; the last holder's release goes upstream."""
        released = []
        for instrument in instruments:
            if instrument not in session.subscriptions:
                continue
            session.subscriptions.discard(instrument)
            holders = self.subscribers.get(instrument)
            if holders is not None:
                holders.discard(session)
                released.append(instrument)
        await self._drop_unwanted(released)

    async def _drop_unwanted(self, instruments: list[str]) -> None:
        unwanted = [i for i in instruments
                    if i in self.subscribers and not self.subscribers[i]]
        for instrument in unwanted:
            del self.subscribers[instrument]
            self.last_tick.pop(instrument, None)
        if unwanted and self.adapter is not None:
            try:
                await self.adapter.unsubscribe(unwanted)
            except Exception:
                log.exception("unsubscribe failed for %s", unwanted)
