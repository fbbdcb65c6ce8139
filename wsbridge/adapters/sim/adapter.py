"""SimAdapter: serves md and td from the embedded exchange.

md: any login is accepted (CTP md fronts check no password); every bucket boundary the
adapter pushes the DepthMarketData of each subscribed instrument. td: logins, orders and
queries go to :class:`~wsbridge.simulators.exchange.Exchange`; every bucket boundary the
adapter runs ``advance()`` so resting orders fill, and delivers the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from wsbridge.adapters.base import Adapter, Login, Reply, Request, Sink
from wsbridge.adapters.sim.config import SimSettings, parse_settings
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.exchange import Event, Exchange, OrderRejected, Session, ctp
from wsbridge.simulators.exchange.calendar import to_ms
from wsbridge.simulators.exchange.engine import SYSTEM_NAME
from wsbridge.simulators.exchange.queries import HANDLERS

log = logging.getLogger(__name__)

MD_REQUESTS = frozenset({
    "ReqUserLogin", "ReqUserLogout", "SubscribeMarketData", "UnSubscribeMarketData",
})
TD_REQUESTS = frozenset({
    "ReqUserLogin", "ReqOrderInsert", "ReqOrderAction", "ReqUserPasswordUpdate", *HANDLERS,
})

_md_sessions = itertools.count(1)


class SimAdapter(Adapter):
    """The default back end: a small exchange in process."""

    name = "sim"

    def __init__(
        self, settings: SimSettings, app_type: str, sink: Sink,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(settings, app_type, sink)
        self.clock = clock  # epoch seconds; tests pass a fake clock and a matching sleep
        self.sleep = sleep
        self.exchange: Exchange | None = None
        self._subscribed: dict[str, None] = {}  # insertion-ordered set
        self._task: asyncio.Task | None = None

    @classmethod
    def parse_settings(cls, data: dict, where: str) -> SimSettings:
        return parse_settings(data, where)

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        journal = self.settings.journal if self.app_type == "td" else None
        self.exchange = Exchange(self.settings, journal, self.clock)
        self._task = asyncio.create_task(self._run(), name=f"sim-{self.app_type}")
        self.sink.on_status(True)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):  # stopping must not raise
                await task
        if self.exchange is not None:
            try:
                self.exchange.close()
            except Exception:
                log.exception("closing the sim exchange")

    def _engine(self) -> Exchange:
        if self.exchange is None:
            raise CtpError(errors.FRONT_NOT_ACTIVE, detail="sim back end not started")
        return self.exchange

    # -- sessions ---------------------------------------------------------------------

    async def login(self, fields: dict, peer: str) -> Login:
        ex = self._engine()
        broker_id = str(fields.get("BrokerID") or self.settings.broker_id)
        user_id = str(fields.get("UserID") or "")
        if self.app_type == "md":
            return self._md_login(ex, broker_id, user_id)
        session = ex.login(broker_id, user_id, str(fields.get("Password") or ""))
        return Login(
            account=session.account, user_id=user_id, fields=session.rsp_user_login(),
            state=session,
        )

    def _md_login(self, ex: Exchange, broker_id: str, user_id: str) -> Login:
        t_ms = to_ms(self.clock())
        clock = ex.calendar.clock_time(t_ms)
        fields = ctp.filled(
            "RspUserLogin", TradingDay=ex.calendar.day(t_ms).trading_day, LoginTime=clock,
            BrokerID=broker_id, UserID=user_id, SystemName=SYSTEM_NAME,
            FrontID=self.settings.front_id, SessionID=next(_md_sessions), MaxOrderRef="0",
            SHFETime=clock, DCETime=clock, CZCETime=clock, FFEXTime=clock, INETime=clock,
            GFEXTime=clock,
        )
        return Login(account=f"{broker_id}:{user_id}", user_id=user_id, fields=fields)

    # -- requests ---------------------------------------------------------------------

    def supports(self, msg_type: str) -> bool:
        return msg_type in (TD_REQUESTS if self.app_type == "td" else MD_REQUESTS)

    async def request(self, login: Login, req: Request) -> Reply:
        ex = self._engine()
        msg_type = req.msg_type
        if not self.supports(msg_type):
            raise CtpError(errors.NOT_SUPPORTED, detail=msg_type)
        if self.app_type == "md":
            if msg_type == "ReqUserLogout":
                return Reply(rows=[ctp.filled(
                    "UserLogout", BrokerID=login.fields.get("BrokerID", ""),
                    UserID=login.user_id,
                )])
            raise CtpError(errors.NOT_SUPPORTED, detail=msg_type)
        session: Session = login.state
        body = req.body or {}
        if msg_type in ("ReqOrderInsert", "ReqOrderAction"):
            action = ex.insert_order if msg_type == "ReqOrderInsert" else ex.cancel_order
            try:
                events = action(session, body)
            except OrderRejected as exc:
                # CTP answers the Rsp first, then the ErrRtn push.
                asyncio.get_running_loop().call_soon(self._deliver, exc.events)
                return Reply(rows=[exc.body], error=exc)
            self._deliver(events)
            return Reply(silent=True)
        if msg_type == "ReqUserPasswordUpdate":
            ex.update_password(session, str(body.get("OldPassword", "")),
                               str(body.get("NewPassword", "")))
            row = ctp.filled(
                "UserPasswordUpdate", BrokerID=session.broker_id, UserID=session.user_id,
                OldPassword=body.get("OldPassword", ""), NewPassword=body.get("NewPassword", ""),
            )
            return Reply(rows=[row])
        if msg_type == "ReqUserLogin":
            raise CtpError(errors.NOT_SUPPORTED, detail="already logged in")
        return Reply(rows=ex.query(session, msg_type, body))

    def _deliver(self, events: Iterable[Event]) -> None:
        sink = self.sink
        for ev in events:
            if ev.msg_type == "RtnOrder":
                sink.on_order(ev.account, ev.body)
            elif ev.msg_type == "RtnTrade":
                sink.on_trade(ev.account, ev.body)
            else:
                sink.on_push(ev.account, ev.msg_type, ev.body_key, ev.body, ev.rsp_info)

    # -- market data ------------------------------------------------------------------

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, Any]:
        ex = self._engine()
        out: dict[str, Any] = {}
        for iid in instrument_ids:
            if iid in ex.instruments:
                self._subscribed[iid] = None
                out[iid] = None
            else:
                out[iid] = CtpError(errors.INSTRUMENT_NOT_FOUND, detail=iid)
        return out

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        for iid in instrument_ids:
            self._subscribed.pop(iid, None)

    # -- the clock --------------------------------------------------------------------

    async def _run(self) -> None:
        """Wake at every bucket boundary: md pushes ticks, td runs a matching round."""
        tick_ms = self.settings.tick_interval_ms
        while True:
            boundary = (to_ms(self.clock()) // tick_ms + 1) * tick_ms
            await self.sleep(max(0.0, boundary / 1000 - self.clock()))
            now = max(self.clock(), boundary / 1000)
            try:
                if self.app_type == "md":
                    self._push_ticks(now)
                else:
                    self._deliver(self._engine().advance(now))
            except Exception:  # one bad round must not stop the market
                log.exception("sim %s round failed", self.app_type)

    def _push_ticks(self, now: float) -> None:
        ex = self._engine()
        for iid in list(self._subscribed):
            self.sink.on_tick(ex.depth(iid, now))

    def health(self) -> dict:
        ex = self.exchange
        return {
            "backend": self.name,
            "running": ex is not None,
            "trading_day": ex.trading_day if ex else "",
            "instruments": len(ex.instruments) if ex else 0,
            "subscribed": len(self._subscribed),
        }
