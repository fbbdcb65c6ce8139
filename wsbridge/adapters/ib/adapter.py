"""The Interactive Brokers back end: CTP's protocol over TWS / IB Gateway via ib-insync."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import ClassVar

from wsbridge.adapters.base import Adapter, Login, Reply, Request, Sink
from wsbridge.adapters.ib import config
from wsbridge.adapters.ib.connection import Connection
from wsbridge.adapters.ib.data import MarketData
from wsbridge.adapters.ib.execution import ClientSession, Execution
from wsbridge.adapters.ib.parsing.contracts import ContractTable
from wsbridge.adapters.ib.providers import InstrumentProvider
from wsbridge.adapters.ib.queries import QUERIES, query
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.ib")

TD_REQUESTS = frozenset({"ReqOrderInsert", "ReqOrderAction", *QUERIES})


class IbAdapter(Adapter):
    """One TWS API connection per server process (md and td use different client ids)."""

    name: ClassVar[str] = "ib"

    def __init__(self, settings: config.IbSettings, app_type: str, sink: Sink) -> None:
        super().__init__(settings, app_type, sink)
        self.connection = Connection(settings, sink, self._ready, self._data_lost)
        self.provider = InstrumentProvider(self.connection,
                                           ContractTable.from_config(settings.contracts))
        self.market = MarketData(self.connection, self.provider, sink)
        self.execution = Execution(self.connection, self.provider, self.market, sink,
                                   settings) if app_type == "td" else None

    @classmethod
    def parse_settings(cls, data: dict, where: str) -> config.IbSettings:
        return config.parse(data, where)

    async def start(self) -> None:
        await self.connection.start()

    async def stop(self) -> None:
        await self.connection.stop()

    async def _ready(self, first: bool) -> None:
        await self.market.restore()
        if self.execution is not None:
            await self.execution.on_ready(first)

    async def _data_lost(self) -> None:
        await self.market.restore()

    # --- sessions ------------------------------------------------------------------------

    async def login(self, fields: dict, peer: str) -> Login:
        user_id = str(fields.get("UserID", ""))
        password = str(fields.get("Password", ""))
        if not any(u.user_id == user_id and hmac.compare_digest(u.password, password)
                   for u in self.settings.users):
            raise CtpError(errors.INVALID_LOGIN)
        account = self.connection.account
        if not account and self.app_type == "md":
            account = "md"  # quotes are not per account: any routing key will do
        if not account:
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           "CTP:Front not active: not connected to TWS yet (account unknown)")
        session = self.execution.new_session() if self.execution else ClientSession(0)
        now = datetime.now()
        body = catalog.filled("RspUserLogin", {
            "TradingDay": now.strftime("%Y%m%d"), "LoginTime": now.strftime("%H:%M:%S"),
            "BrokerID": self.settings.broker_id, "UserID": user_id,
            "SystemName": "IB TWS", "FrontID": self.settings.client_id,
            "SessionID": session.session_id,
            "MaxOrderRef": self.execution.max_order_ref() if self.execution else "",
        })
        log.info("%s logged in from %s (IB account %s)", user_id, peer, account)
        return Login(account=account, user_id=user_id, fields=body, state=session)

    # --- requests ------------------------------------------------------------------------

    def supports(self, msg_type: str) -> bool:
        return self.app_type == "td" and msg_type in TD_REQUESTS

    async def request(self, login: Login, req: Request) -> Reply:
        execution = self.execution
        if execution is None or req.msg_type not in TD_REQUESTS:
            raise CtpError(errors.NOT_SUPPORTED,
                           detail=f"{req.msg_type} is not supported by the ib back end")
        if req.msg_type == "ReqOrderInsert":
            return await execution.insert(login, req)
        if req.msg_type == "ReqOrderAction":
            return await execution.cancel(login, req)
        return await query(execution, login, req)

    async def subscribe(self, instrument_ids: list[str]) -> dict:
        return await self.market.subscribe(instrument_ids)

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        await self.market.unsubscribe(instrument_ids)

    def health(self) -> dict:
        s = self.settings
        return {"backend": self.name, "tws": f"{s.host}:{s.port}", "client_id": s.client_id,
                "connected": self.connection.ready, "account": self.connection.account}
