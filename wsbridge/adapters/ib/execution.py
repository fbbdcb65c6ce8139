"""Trading (td): orders and cancels, IB order events -> RtnOrder / RtnTrade.

Order state is ib-insync's (its Trade objects follow TWS's orderStatus / openOrder /
execDetails / commissionReport messages); this module adds the CTP side of each order
(:class:`~wsbridge.adapters.ib.parsing.orders.OrderOrigin`), pushes a RtnOrder whenever
what a CTP client sees changes and a RtnTrade per execution once its commission is known.
After a reconnect it pushes whatever changed while TWS was away.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wsbridge.adapters.base import Login, Reply, Request, Sink
from wsbridge.adapters.ib.config import IbSettings
from wsbridge.adapters.ib.connection import Connection
from wsbridge.adapters.ib.data import MarketData
from wsbridge.adapters.ib.parsing import errors as ib_errors
from wsbridge.adapters.ib.parsing import orders
from wsbridge.adapters.ib.providers import InstrumentProvider
from wsbridge.adapters.ib.sdk import Order
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.ib.execution")

COMMISSION_WAIT = 2.0  # seconds a RtnTrade waits for its commission report
CANCEL_ERRORS = frozenset({135, 161, 10147, 10148, 10149})


@dataclass(slots=True)
class ClientSession:
    """What the bridge keeps per websocket login (Login.state)."""

    session_id: int
    refs: itertools.count = field(default_factory=lambda: itertools.count(1))


@dataclass(slots=True)
class Tracked:
    """One IB order under its CTP identity."""

    origin: orders.OrderOrigin
    trade: Any  # the ib-insync Trade (a new object after each reconnect)
    order_id: int
    perm_id: int = 0
    accepted: bool = False  # TWS has acknowledged it at least once
    rejected: bool = False
    error: CtpError | None = None  # the IB error that ended or marked it
    message: str = ""
    pushed: tuple = ()  # the CTP-visible state last pushed


def _now() -> datetime:
    return datetime.now()


class Execution:
    """The td side of the IB adapter."""

    def __init__(self, connection: Connection, provider: InstrumentProvider,
                 market: MarketData, sink: Sink, settings: IbSettings) -> None:
        self.connection = connection
        self.provider = provider
        self.market = market
        self.sink = sink
        self.settings = settings
        self._orders: dict[int, Tracked] = {}  # IB orderId (this client) -> order
        self._by_perm: dict[int, Tracked] = {}
        self._by_ref: dict[tuple[int, int, str], Tracked] = {}  # (front, session, ref)
        self._pushed_fills: set[str] = set()
        self._fill_timers: dict[str, asyncio.TimerHandle] = {}
        self._insert_waiters: dict[int, asyncio.Future] = {}
        self._cancel_waiters: dict[int, asyncio.Future] = {}
        self._sessions = itertools.count(random.randrange(1, 1 << 20) << 8)
        ib = connection.ib
        ib.orderStatusEvent += self._on_status
        ib.openOrderEvent += self._on_status
        ib.execDetailsEvent += self._on_execution
        ib.commissionReportEvent += self._on_commission
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_lost

    @property
    def account(self) -> str:
        return self.connection.account

    def new_session(self) -> ClientSession:
        return ClientSession(next(self._sessions))

    def max_order_ref(self) -> str:
        refs = [int(r) for (_, _, r) in self._by_ref if r.isdigit()]
        return str(max(refs, default=0))

    # --- orders --------------------------------------------------------------------------

    async def insert(self, login: Login, req: Request) -> Reply:
        body = dict(req.body)
        ib = self.connection.require()
        if self.settings.readonly:
            raise CtpError(errors.UNSUPPORTED_FUNCTION,
                           "CTP:Unsupported function: the IB connection is read-only")
        instrument = await self.provider.resolve(body.get("InstrumentID", ""),
                                                 body.get("ExchangeID", ""))
        spec = orders.to_order(body, self.account)
        session: ClientSession = login.state
        front = self.settings.client_id
        ref = str(body.get("OrderRef", "")).strip() or str(next(session.refs))
        if (front, session.session_id, ref) in self._by_ref:
            raise CtpError(errors.DUPLICATE_ORDER_REF,
                           f"CTP:Duplicate order reference {ref!r} in this session")
        now = _now()
        body.update(InstrumentID=instrument.ids[0], ExchangeID=instrument.ids[1],
                    OrderRef=ref, UserID=login.user_id, RequestID=req.request_id,
                    InvestorID=self.account, BrokerID=self.settings.broker_id)
        origin = orders.OrderOrigin(body, front, session.session_id,
                                    now.strftime("%Y%m%d"), now.strftime("%H:%M:%S"))
        order = Order(**{**spec.kwargs(), "orderRef": ref})
        trade = ib.placeOrder(instrument.contract, order)
        tracked = Tracked(origin, trade, order.orderId)
        self._orders[order.orderId] = tracked
        self._by_ref[(front, session.session_id, ref)] = tracked
        waiter = asyncio.get_running_loop().create_future()
        self._insert_waiters[order.orderId] = waiter
        self._push_order(tracked)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.settings.order_timeout)
        except asyncio.TimeoutError:
            pass  # still pending at TWS: its answer comes as RtnOrder later
        finally:
            self._insert_waiters.pop(order.orderId, None)
        if tracked.rejected:
            error = tracked.error or CtpError(errors.BAD_ORDER_FIELD)
            row = catalog.filled("InputOrder", {k: v for k, v in body.items()
                                                if k in catalog.fields("InputOrder")})
            self.sink.on_push(self.account, "ErrRtnOrderInsert", "InputOrder", row,
                              error.rsp_info())
            return Reply(rows=[row], error=error)
        return Reply(silent=True)

    async def cancel(self, login: Login, req: Request) -> Reply:
        body = dict(req.body)
        ib = self.connection.require()
        if body.get("ActionFlag", "0") not in ("0", ""):
            raise CtpError(errors.UNSUPPORTED_FUNCTION,
                           "CTP:Unsupported function: only ActionFlag '0' (delete) is mapped "
                           "to IB")
        tracked = self._find(login, body)
        if tracked is None:
            raise CtpError(errors.ORDER_NOT_FOUND)
        status = tracked.trade.orderStatus.status
        if tracked.rejected or status not in orders.CANCELLABLE:
            raise CtpError(errors.ORDER_NOT_CANCELABLE,
                           f"CTP:Order status does not allow cancel: IB status {status}")
        waiter = asyncio.get_running_loop().create_future()
        self._cancel_waiters[tracked.order_id] = waiter
        ib.cancelOrder(tracked.trade.order)
        try:
            error = await asyncio.wait_for(asyncio.shield(waiter), self.settings.order_timeout)
        except asyncio.TimeoutError:
            error = None  # TWS has not answered yet: the RtnOrder will tell
        finally:
            self._cancel_waiters.pop(tracked.order_id, None)
        if error is not None:
            row = self._action_row(tracked, body, login)
            now = _now()
            pushed = catalog.filled("OrderAction", {
                **row, "OrderActionStatus": "c", "StatusMsg": error.error_msg,  # c: rejected
                "ActionDate": now.strftime("%Y%m%d"), "ActionTime": now.strftime("%H:%M:%S"),
                "OrderLocalID": str(tracked.order_id)})
            self.sink.on_push(self.account, "ErrRtnOrderAction", "OrderAction", pushed,
                              error.rsp_info())
            return Reply(rows=[row], error=error)
        return Reply(silent=True)

    def _find(self, login: Login, body: dict) -> Tracked | None:
        sys_id = str(body.get("OrderSysID", "")).strip()
        if sys_id:
            if not sys_id.isdigit():
                return None
            number = int(sys_id)
            return self._by_perm.get(number) or self._orders.get(number)
        ref = str(body.get("OrderRef", "")).strip()
        session: ClientSession = login.state
        front = body.get("FrontID") or self.settings.client_id
        session_id = body.get("SessionID") or session.session_id
        return self._by_ref.get((front, session_id, ref))

    def _action_row(self, tracked: Tracked, body: dict, login: Login) -> dict:
        known = catalog.fields("InputOrderAction")
        row = {k: v for k, v in body.items() if k in known}
        row.update(BrokerID=self.settings.broker_id, InvestorID=self.account,
                   UserID=login.user_id, ActionFlag="0",
                   InstrumentID=tracked.origin.input.get("InstrumentID", ""),
                   ExchangeID=tracked.origin.input.get("ExchangeID", ""),
                   OrderRef=tracked.origin.input.get("OrderRef", ""),
                   FrontID=tracked.origin.front_id, SessionID=tracked.origin.session_id,
                   OrderSysID=orders.order_sys_id(self._state(tracked)))
        return catalog.filled("InputOrderAction", row)

    # --- IB events -> pushes -------------------------------------------------------------

    def _track(self, trade: Any) -> Tracked | None:
        """The tracked order for an ib-insync Trade, adopting orders placed elsewhere."""
        order = trade.order
        perm = order.permId or trade.orderStatus.permId
        tracked = None
        if order.orderId > 0 and order.clientId == self.settings.client_id:
            tracked = self._orders.get(order.orderId)
            if tracked is not None and perm and tracked.perm_id and tracked.perm_id != perm:
                tracked = None  # TWS reused an order id (e.g. a simulator restarted afresh)
        if tracked is None and perm:
            tracked = self._by_perm.get(perm)
        if tracked is None:
            if order.account and self.account and order.account != self.account:
                return None
            ids = self.provider.ids_of(trade.contract)
            origin = orders.origin_from_ib(ids, order, _now())
            tracked = Tracked(origin, trade, order.orderId)
            if order.orderId > 0 and order.clientId == self.settings.client_id:
                self._orders[order.orderId] = tracked
        tracked.trade = trade
        if perm and not tracked.perm_id:
            tracked.perm_id = perm
        if tracked.perm_id:
            self._by_perm[tracked.perm_id] = tracked
        return tracked

    def _state(self, tracked: Tracked) -> orders.IbOrderState:
        status = tracked.trade.orderStatus
        filled = max(status.filled, sum(f.execution.shares for f in tracked.trade.fills))
        return orders.IbOrderState(tracked.order_id, tracked.perm_id, status.status,
                                   filled, tracked.rejected, tracked.message)

    def order_row(self, tracked: Tracked) -> dict:
        """The CTP Order row of a tracked order, as of now."""
        now = _now()
        return orders.order_to_ctp(
            tracked.origin, self._state(tracked), broker_id=self.settings.broker_id,
            account=self.account, trading_day=now.strftime("%Y%m%d"), now=now,
            currency=getattr(tracked.trade.contract, "currency", ""))

    def tracked_orders(self) -> list[Tracked]:
        """Every order known (placed here, adopted from TWS), once each."""
        return list({id(t): t for t in [*self._orders.values(),
                                         *self._by_perm.values()]}.values())

    def _push_order(self, tracked: Tracked) -> None:
        """RtnOrder if what a CTP client sees of the order changed since the last one."""
        row = self.order_row(tracked)
        if _visible(row) == tracked.pushed:
            return
        tracked.pushed = _visible(row)
        self.sink.on_order(self.account, row)

    def _on_status(self, trade: Any) -> None:
        tracked = self._track(trade)
        if tracked is None:
            return
        status = trade.orderStatus.status
        entry = trade.log[-1] if trade.log else None
        if status == "Cancelled" and entry is not None and entry.errorCode \
                and not ib_errors.is_warning(entry.errorCode):
            return  # ended by an IB error: _on_error, called next, has its text
        if status in ("PreSubmitted", "Submitted", "Filled"):
            tracked.accepted = True
        if status not in ("PendingSubmit", "ApiPending") and not tracked.rejected:
            tracked.message = ""
        self._push_order(tracked)
        if status not in ("PendingSubmit", "ApiPending", "PendingCancel"):
            self._resolve(self._insert_waiters, tracked.order_id, None)
        if status in ("Cancelled", "ApiCancelled"):
            self._resolve(self._cancel_waiters, tracked.order_id, None)
        elif status == "Filled":
            self._resolve(self._cancel_waiters, tracked.order_id, CtpError(
                errors.ORDER_NOT_CANCELABLE, "CTP:Order status does not allow cancel: filled"))

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        tracked = self._orders.get(req_id) if req_id > 0 else None
        if tracked is None or ib_errors.is_warning(code):
            return
        if code in CANCEL_ERRORS:
            self._resolve(self._cancel_waiters, req_id, ib_errors.ib_error(code, text))
            return
        trade = tracked.trade
        tracked.error = ib_errors.ib_error(code, text)
        tracked.message = tracked.error.error_msg
        if not tracked.accepted and trade.orderStatus.filled == 0:
            tracked.rejected = True  # TWS refused it before it ever worked
        self._push_order(tracked)
        self._resolve(self._insert_waiters, req_id, None)

    @staticmethod
    def _resolve(waiters: dict[int, asyncio.Future], key: int, value: Any) -> None:
        waiter = waiters.get(key)
        if waiter is not None and not waiter.done():
            waiter.set_result(value)

    def _on_execution(self, trade: Any, fill: Any) -> None:
        self._track(trade)
        exec_id = fill.execution.execId
        if exec_id in self._pushed_fills or exec_id in self._fill_timers:
            return
        loop = asyncio.get_running_loop()
        self._fill_timers[exec_id] = loop.call_later(COMMISSION_WAIT, self._push_fill, fill)

    def _on_commission(self, trade: Any, fill: Any, report: Any) -> None:
        timer = self._fill_timers.get(fill.execution.execId)
        if timer is not None:
            timer.cancel()
            self._push_fill(fill)

    def _push_fill(self, fill: Any) -> None:
        exec_id = fill.execution.execId
        self._fill_timers.pop(exec_id, None)
        if exec_id in self._pushed_fills:
            return
        self._pushed_fills.add(exec_id)
        self.sink.on_trade(self.account, self.trade_row(fill))

    def trade_row(self, fill: Any) -> dict:
        ex = fill.execution
        tracked = self._by_perm.get(ex.permId) or (
            self._orders.get(ex.orderId) if ex.clientId == self.settings.client_id else None)
        when = ex.time.astimezone() if ex.time.tzinfo else ex.time
        return orders.fill_to_ctp(
            tracked.origin if tracked else None, fill, self.provider.ids_of(fill.contract),
            broker_id=self.settings.broker_id, trading_day=_now().strftime("%Y%m%d"),
            local_time=when)

    def _on_lost(self) -> None:
        """TWS is gone: nobody waits for its answers; what happened shows on reconnect."""
        for waiters in (self._insert_waiters, self._cancel_waiters):
            for key in list(waiters):
                self._resolve(waiters, key, None)

    async def on_ready(self, first: bool) -> None:
        """After a (re)connect: adopt TWS's orders; push what changed while away."""
        ib = self.connection.ib
        for trade in ib.trades():
            tracked = self._track(trade)
            if tracked is None:
                continue
            if trade.orderStatus.status in ("PreSubmitted", "Submitted", "Filled"):
                tracked.accepted = True
            if first:
                self._push_order_silently(tracked)
            else:
                self._push_order(tracked)
        known = {id(trade) for trade in ib.trades()}
        for tracked in self.tracked_orders():
            if id(tracked.trade) not in known and not tracked.rejected \
                    and tracked.trade.orderStatus.status in ("PendingSubmit", "ApiPending"):
                self._lost_in_transit(tracked)
        for fill in ib.fills():
            if fill.execution.execId in self._pushed_fills:
                continue
            if first:
                self._pushed_fills.add(fill.execution.execId)
            else:
                self._push_fill(fill)

    def _lost_in_transit(self, tracked: Tracked) -> None:
        """An order TWS never acknowledged before the link dropped, and does not know now."""
        tracked.rejected = True
        tracked.error = CtpError(errors.FRONT_NOT_ACTIVE, "CTP:Front not active: the TWS "
                                 "connection dropped before TWS acknowledged the order")
        tracked.message = tracked.error.error_msg
        self._push_order(tracked)
        known = catalog.fields("InputOrder")
        row = catalog.filled("InputOrder", {k: v for k, v in tracked.origin.input.items()
                                            if k in known})
        self.sink.on_push(self.account, "ErrRtnOrderInsert", "InputOrder", row,
                          tracked.error.rsp_info())

    def _push_order_silently(self, tracked: Tracked) -> None:
        """Record the current state as seen without pushing (startup: it is history)."""
        tracked.pushed = _visible(self.order_row(tracked))


def _visible(row: dict) -> tuple:
    """What of an Order row a client acts on: a change is worth a RtnOrder."""
    return (row["OrderSubmitStatus"], row["OrderStatus"], row["VolumeTraded"],
            row["OrderSysID"], row["StatusMsg"])
