"""CtpAdapter: the CTP back end on openctp-ctp, td and md.

td: one shared upstream session per investor (:mod:`.trader`); md: one shared
connection for all clients (:mod:`.market`). Every request of the CTP API is served from
the generated tables in :mod:`.api`; every callback arrives through the generated SPI in
:mod:`.spi`. SPI callbacks come on CTP's own thread and reach the loop only through one
:class:`ThreadBridge`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from wsbridge.adapters.base import Adapter, Login, Reply, Request, Sink, ThreadBridge
from wsbridge.adapters.ctp import config
from wsbridge.adapters.ctp.market import MarketFeed
from wsbridge.adapters.ctp.trader import Client, TraderSession, account_key
from wsbridge.adapters.ctp.upstream import tables
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.ctp")


class CtpAdapter(Adapter):
    """CTP through openctp-ctp (or the stand-in, for ``sim://`` fronts)."""

    name = "ctp"

    def __init__(self, settings: config.CtpSettings, app_type: str, sink: Sink) -> None:
        super().__init__(settings, app_type, sink)
        config.check_app(settings, app_type)
        self.table, _ = tables(app_type)  # fails fast if protocols/ and openctp differ
        self.bridge: ThreadBridge | None = None
        self.sessions: dict[str, TraderSession] = {}  # td: account -> session
        self.feed: MarketFeed | None = None  # md
        self._stand_in: Any = None
        self._tasks: set[asyncio.Task] = set()  # session openings and closings

    @classmethod
    def parse_settings(cls, data: dict, where: str) -> config.CtpSettings:
        return config.parse(data, where)

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self.bridge = ThreadBridge(asyncio.get_running_loop())
        if self.settings.simulated(self.app_type):
            from wsbridge.simulators.ctp import front

            self._stand_in = front(self.settings.sim)
            self._stand_in.install_signal()
            log.info("%s: CTP stand-in on the sim exchange (sim://)", self.app_type)
        if self.app_type == "md":
            self.feed = MarketFeed(self.settings, self.bridge, self.sink)
            await self.feed.start()

    async def stop(self) -> None:
        closing = [s.close() for s in self.sessions.values()]
        if self.feed is not None:
            closing.append(self.feed.close())
        self.sessions.clear()
        await asyncio.gather(*closing, *self._tasks, return_exceptions=True)
        if self._stand_in is not None:
            self._stand_in.close()

    # --- clients -------------------------------------------------------------------------

    async def login(self, fields: dict, peer: str) -> Login:
        user_id = fields.get("UserID", "")
        if self.app_type == "md":
            assert self.feed is not None
            account, body = await self.feed.login(fields)
            return Login(account, user_id, body)
        if not user_id:
            raise CtpError(errors.BAD_PARAMETER, detail="ReqUserLogin.UserID: required")
        broker_id = fields.get("BrokerID") or self.settings.BrokerID
        key = account_key(broker_id, user_id)
        while True:
            session = self.sessions.get(key)
            if session is None or _failed(session.opened):
                session = self._open(key, broker_id, fields)
                await asyncio.shield(session.opened)  # shielded: others may wait on it too
                break
            try:
                await asyncio.shield(session.opened)
            except CtpError:
                continue  # another client's attempt failed: try with this client's own
            session.check_password(fields.get("Password", ""))
            await session.wait_ready()
            break
        session.attach(peer)
        log.info("%s logged in as %s (%d clients on this CTP session)", peer, key,
                 session.clients)
        return Login(key, user_id, session.client_fields(), state=Client(session, peer))

    def _open(self, key: str, broker_id: str, fields: dict) -> TraderSession:
        assert self.bridge is not None
        login_fields = {k: v for k, v in fields.items() if v not in ("", None)}
        session = TraderSession(self.settings, self.bridge, self.sink, broker_id,
                                {"UserID": fields["UserID"], **login_fields})
        self.sessions[key] = session

        async def establish() -> None:
            try:
                await session.establish()
            except BaseException as exc:
                # Unlisted before the waiting clients resume, then released.
                log.info("opening the CTP session of %s failed: %s", key, exc)
                if self.sessions.get(key) is session:
                    del self.sessions[key]
                await session.close()
                raise

        self._background(establish())  # not tied to this client: others may wait on it
        return session

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved

    async def logout(self, login: Login) -> None:
        if self.app_type == "md":
            assert self.feed is not None
            await self.feed.drop_quotes(login.account)
            return
        client: Client = login.state
        client.session.detach(client.peer, self._idle)

    def _idle(self, session: TraderSession) -> None:
        if session.clients > 0 or self.sessions.get(session.account) is not session:
            return
        del self.sessions[session.account]
        log.info("closing the CTP session of %s: no client for %gs", session.account,
                 self.settings.session_linger)
        self._background(session.close())

    async def request(self, login: Login, req: Request) -> Reply:
        call = self.table.get(req.msg_type)
        if call is None:
            raise CtpError(errors.NOT_SUPPORTED, detail=f"{req.msg_type}: not a CTP request")
        if self.app_type == "md":
            return await self._md_request(login, req, call)
        session = login.state.session
        if session.closed:
            raise CtpError(errors.FRONT_NOT_ACTIVE, "the CTP session of this login was closed")
        return await session.serve(call, req.body, req.request_id)

    async def _md_request(self, login: Login, req: Request, call: Any) -> Reply:
        assert self.feed is not None
        if req.instrument_ids:
            return await self.feed.for_quotes(login.account, req.msg_type,
                                              list(req.instrument_ids))
        if req.msg_type == "ReqUserLogout":
            return Reply(rows=[{"BrokerID": self.settings.BrokerID, "UserID": login.user_id}])
        await self.feed.wait_ready()
        return await self.feed.request(call, req.body)

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, Any]:
        assert self.feed is not None
        return await self.feed.subscribe(instrument_ids)

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        assert self.feed is not None
        await self.feed.unsubscribe(instrument_ids)

    def health(self) -> dict:
        out: dict[str, Any] = {"backend": self.name,
                               "fronts": self.settings.front(self.app_type)}
        if self.feed is not None:
            out["md"] = self.feed.health()
        if self.app_type == "td":
            out["sessions"] = [s.health() for s in self.sessions.values()]
        if self._stand_in is not None:
            out["stand_in"] = self._stand_in.health()
        return out


def _failed(future: asyncio.Future) -> bool:
    return future.done() and (future.cancelled() or future.exception() is not None)
