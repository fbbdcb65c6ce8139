"""The Futu back end: CTP requests in, futu-api calls out, OpenD pushes back as CTP pushes.

md runs one quote context (OpenQuoteContext); td a trade context (OpenSecTradeContext)
plus a quote context for instrument and market queries. Each context is a
:class:`~wsbridge.adapters.futu.connection.Link`; the back end is up while all its links
are, and clients see FrontDisconnected (ErrorID 8) / FrontConnected as that changes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import logging
from typing import Any, ClassVar

from wsbridge.adapters.base import Adapter, Login, Reply, Request, Sink, ThreadBridge
from wsbridge.adapters.futu import config, sdk
from wsbridge.adapters.futu import data as md
from wsbridge.adapters.futu import execution as td
from wsbridge.adapters.futu.config import FutuSettings
from wsbridge.adapters.futu.connection import Link, hooked
from wsbridge.adapters.futu.providers import InstrumentProvider, frame_rows
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.futu")

FIRST_CONNECT_WAIT = 10.0  # start() waits at most this long for a first answer from OpenD


class FutuAdapter(Adapter):
    """CTP's protocol on Futu OpenD (HK, US and A-share stocks)."""

    name: ClassVar[str] = "futu"

    def __init__(self, settings: FutuSettings, app_type: str, sink: Sink) -> None:
        super().__init__(settings, app_type, sink)
        sdk.load()  # fail now, with the install hint, if futu-api is missing
        self.settings: FutuSettings = settings
        self.links: list[Link] = []
        self.data: md.FutuData | None = None
        self.execution: td.FutuExecution | None = None
        self._bridge: ThreadBridge | None = None
        self._tasks: set[asyncio.Task] = set()
        self._up = False
        self._started = False  # link changes are reported once start() has waited
        self.unlock_error = ""

    @classmethod
    def parse_settings(cls, data: dict, where: str) -> FutuSettings:
        return config.parse(data, where)

    # --- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._bridge = ThreadBridge(asyncio.get_running_loop())
        quote = Link("quote", self.settings, self._bridge, self._make_quote, self._changed)
        provider = InstrumentProvider(quote, self.settings)
        self.links = [quote]
        if self.app_type == "md":
            self.data = md.FutuData(self.sink, quote, provider)
        else:
            trade = Link("trade", self.settings, self._bridge, self._make_trade, self._changed)
            self.execution = td.FutuExecution(self.settings, self.sink, trade, provider)
            self.execution.start()
            self.links.append(trade)
        for link in self.links:
            link.start()
        settled = [asyncio.ensure_future(link.settled.wait()) for link in self.links]
        await asyncio.wait(settled, timeout=FIRST_CONNECT_WAIT)
        for waiter in settled:
            waiter.cancel()
        self._started = True
        self._changed(None)
        log.info("futu back end (%s, %s) started: %r", self.app_type, self.settings.trd_env,
                 self.settings)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.data is not None:
            self.data.close()
        if self.execution is not None:
            await self.execution.stop()
        for link in self.links:
            await link.stop()

    def _make_quote(self, link: Link) -> Any:
        """Build the quote context (blocking; a worker thread)."""
        futu = sdk.load()
        ctx = hooked(futu.OpenQuoteContext, link)(host=self.settings.host,
                                                  port=self.settings.port)
        if self.data is not None:
            md.install_handlers(ctx, self.data, self._bridge)
        return ctx

    def _make_trade(self, link: Link) -> Any:
        """Build the trade context, choose the account, unlock (blocking; a worker thread)."""
        futu = sdk.load()
        assert self.execution is not None
        market = self.settings.trd_market
        kwargs: dict[str, Any] = {"filter_trdmarket": "N/A" if market == "NONE" else market,
                                  "host": self.settings.host, "port": self.settings.port}
        if self.settings.security_firm:
            kwargs["security_firm"] = self.settings.security_firm
        ctx = hooked(futu.OpenSecTradeContext, link)(**kwargs)
        try:
            td.install_handlers(ctx, self.execution, self._bridge)
            ret, accounts = ctx.get_acc_list()
            if ret != futu.RET_OK:
                raise RuntimeError(f"get_acc_list failed: {accounts}")
            self.execution.acc_id = self.execution.choose_account(frame_rows(accounts))
            if self.settings.trd_env == "REAL":
                ret, msg = ctx.unlock_trade(password_md5=self.settings.unlock_md5)
                self.unlock_error = "" if ret == futu.RET_OK else str(msg)
                if ret != futu.RET_OK:
                    log.error("unlocking real trading failed: %s (orders will be refused "
                              "until OpenD is unlocked)", msg)
        except BaseException:
            ctx.close()
            raise
        return ctx

    def _changed(self, link: Link | None) -> None:
        """A link went up or down: report the back end's state; resync td after a reconnect."""
        if not self._started:
            return
        up = bool(self.links) and all(link.connected for link in self.links)
        if up:
            self.sink.on_status(True, "OpenD connected")
            if self.execution is not None and not self._up:
                self._spawn(self.execution.synchronize())
        else:
            down = next((x for x in self.links if not x.connected), None)
            self.sink.on_status(False, down.reason if down else "OpenD not connected")
        self._up = up

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- clients ------------------------------------------------------------------------------

    async def login(self, fields: dict, peer: str) -> Login:
        user = str(fields.get("UserID") or "")
        password = str(fields.get("Password") or "")
        users = self.settings.users
        if users:
            expected = users.get(user)
            if expected is None or not hmac.compare_digest(expected.encode(),
                                                            password.encode()):
                raise CtpError(errors.INVALID_LOGIN)
        if not self._up:
            down = next((x for x in self.links if not x.connected), None)
            raise CtpError(errors.FRONT_NOT_ACTIVE, detail=down.reason if down else None)
        if self.execution is None:
            now = dt.datetime.now()
            fields_out = catalog.filled("RspUserLogin", {
                "TradingDay": now.strftime("%Y%m%d"), "LoginTime": now.strftime("%H:%M:%S"),
                "BrokerID": self.settings.broker_id, "UserID": user,
                "SystemName": "wsbridge-futu", "FrontID": self.settings.front_id,
            })
            return Login(account="futu:md", user_id=user, fields=fields_out)
        session = self.execution.new_session(user)
        return Login(account=self.execution.account, user_id=user,
                     fields=self.execution.login_fields(session), state=session)

    async def request(self, login: Login, req: Request) -> Reply:
        if self.execution is not None:
            return await self.execution.request(login, req)
        if req.msg_type == "ReqUserLogout":
            return Reply(rows=[catalog.filled("UserLogout", {
                "BrokerID": self.settings.broker_id, "UserID": login.user_id})])
        raise CtpError(errors.NOT_SUPPORTED, detail=f"{req.msg_type} on the futu md server")

    def supports(self, msg_type: str) -> bool:
        if self.execution is not None:
            return self.execution.supports(msg_type)
        return msg_type == "ReqUserLogout"

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, Any]:
        if self.data is None:
            raise CtpError(errors.NOT_SUPPORTED, detail="subscriptions are served by md")
        return await self.data.subscribe(instrument_ids)

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        if self.data is not None:
            await self.data.unsubscribe(instrument_ids)

    def health(self) -> dict:
        out: dict[str, Any] = {
            "backend": self.name, "opend": f"{self.settings.host}:{self.settings.port}",
            "trd_env": self.settings.trd_env,
            "links": {x.name: {"connected": x.connected, "reason": x.reason}
                      for x in self.links},
        }
        if self.execution is not None:
            out["acc_id"] = self.execution.acc_id
            if self.unlock_error:
                out["unlock_error"] = self.unlock_error
        return out
