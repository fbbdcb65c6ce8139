"""Trading (td): orders, cancels, order/deal pushes and the order/trade queries.

ReqOrderInsert becomes ``place_order`` (the CTP identity rides in the order's remark),
ReqOrderAction ``modify_order(CANCEL)``. Futu pushes order updates and deals to the trade
handlers on its own thread; they hop to the loop through the ThreadBridge and are applied
in arrival order by one consumer task, which turns them into RtnOrder / RtnTrade. The
same order also comes back in place_order's answer and in queries; :func:`is_newer` keeps
each state from being reported twice or out of order. After a reconnect the order and
deal lists are read again and whatever changed meanwhile is pushed. The other td queries
(positions, funds, instruments...) are in :mod:`.queries`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from wsbridge.adapters.base import Login, Reply, Request, Sink, ThreadBridge
from wsbridge.adapters.futu import sdk
from wsbridge.adapters.futu.config import FutuSettings
from wsbridge.adapters.futu.connection import Link
from wsbridge.adapters.futu.parsing import orders as po
from wsbridge.adapters.futu.parsing.codes import digits
from wsbridge.adapters.futu.providers import InstrumentProvider, frame_rows
from wsbridge.adapters.futu.queries import AccountQueries
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.futu")


def install_handlers(ctx: Any, execution: FutuExecution, bridge: ThreadBridge) -> None:
    """Attach order and deal push handlers to a trade context (futu's threads)."""
    futu = sdk.load()

    class OrderHandler(futu.TradeOrderHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, frame = super().on_recv_rsp(rsp_pb)
            if ret == futu.RET_OK:
                bridge.post(execution.push, "order", frame_rows(frame))
            return ret, frame

    class DealHandler(futu.TradeDealHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, frame = super().on_recv_rsp(rsp_pb)
            if ret == futu.RET_OK:
                bridge.post(execution.push, "deal", frame_rows(frame))
            return ret, frame

    ctx.set_handler(OrderHandler())
    ctx.set_handler(DealHandler())


@dataclass(slots=True)
class ClientSession:
    """One websocket login on the td side: its CTP identity and the OrderRefs it used."""

    user_id: str
    front_id: int
    session_id: int
    refs: set[str] = field(default_factory=set)
    last_ref: int = 0

    def next_ref(self) -> str:
        self.last_ref += 1
        return str(self.last_ref)


@dataclass(slots=True)
class OrderState:
    """What the bridge last reported of one Futu order."""

    order_id: str
    code: str
    identity: po.Identity
    status: str = ""
    dealt: float = 0.0


class FutuExecution:
    """The td side of the Futu back end."""

    def __init__(self, settings: FutuSettings, sink: Sink, trade: Link,
                 provider: InstrumentProvider) -> None:
        self.settings = settings
        self.sink = sink
        self.trade = trade
        self.provider = provider
        self.acc_id: int = settings.acc_id
        self.orders: dict[str, OrderState] = {}
        self.by_identity: dict[po.Identity, str] = {}
        self.deals: set[str] = set()
        self.foreign: set[str] = set()  # order ids of other accounts (pushed to us too)
        self._issued: set[int] = set()  # SessionIDs given to this bridge's logins
        self._queue: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        self._consumer: asyncio.Task | None = None
        self._sessions = itertools.count(int(time.time() * 10) % 1_000_000_000)
        self._synced = False
        self.handlers: dict[str, Callable[[ClientSession, dict], Awaitable[Reply]]] = {
            "ReqOrderInsert": self.insert_order,
            "ReqOrderAction": self.order_action,
            "ReqQryOrder": self.query_orders,
            "ReqQryTrade": self.query_trades,
            **AccountQueries(self, provider).handlers(),
        }

    @property
    def account(self) -> str:
        """The push routing key: every td session of this bridge trades this account."""
        return f"futu:{self.acc_id}"

    @property
    def investor_id(self) -> str:
        return str(self.acc_id)

    def env(self) -> dict:
        """The account arguments of every futu-api trade call."""
        return {"trd_env": self.settings.trd_env, "acc_id": self.acc_id}

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._consumer = asyncio.get_running_loop().create_task(self._consume())

    async def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()

    def choose_account(self, accounts: list[dict]) -> int:
        """The configured acc_id, checked against the account list, or the first of trd_env.

        Runs in the context-building thread (before pushes can arrive).
        """
        env = self.settings.trd_env
        ids = [int(a["acc_id"]) for a in accounts if str(a.get("trd_env")) == env]
        if self.settings.acc_id:
            if self.settings.acc_id not in ids:
                raise CtpError(errors.INVALID_LOGIN,
                               detail=f"OpenD has no {env} account {self.settings.acc_id} "
                               f"(it has: {', '.join(map(str, ids)) or 'none'})")
            return self.settings.acc_id
        if not ids:
            raise CtpError(errors.INVALID_LOGIN, detail=f"OpenD has no {env} account")
        return ids[0]

    async def synchronize(self) -> None:
        """Read orders and deals; after a reconnect, push whatever changed while away."""
        emit = self._synced
        try:
            await self._refresh_orders(emit=emit)
            deals = frame_rows(await self.trade.call("deal_list_query", **self.env()))
        except CtpError as exc:
            log.warning("reading orders and deals after connecting failed: %s", exc)
            return
        for deal in deals:
            if emit:
                await self._apply_deal(deal)
            else:
                self.deals.add(str(deal.get("deal_id")))
        self._synced = True

    def new_session(self, user_id: str) -> ClientSession:
        session = ClientSession(user_id, self.settings.front_id, next(self._sessions))
        self._issued.add(session.session_id)
        return session

    def login_fields(self, session: ClientSession) -> dict:
        now = dt.datetime.now()
        return catalog.filled("RspUserLogin", {
            "TradingDay": now.strftime("%Y%m%d"), "LoginTime": now.strftime("%H:%M:%S"),
            "BrokerID": self.settings.broker_id, "UserID": session.user_id,
            "SystemName": "wsbridge-futu", "FrontID": session.front_id,
            "SessionID": session.session_id, "MaxOrderRef": "0",
            "SysVersion": f"futu {self.settings.trd_env} account {self.acc_id}",
        })

    # --- requests ---------------------------------------------------------------------------

    def supports(self, msg_type: str) -> bool:
        return msg_type in self.handlers

    async def request(self, login: Login, req: Request) -> Reply:
        return await self.handlers[req.msg_type](login.state, req.body)

    async def insert_order(self, session: ClientSession, body: dict) -> Reply:
        echo = self._input_echo(session, body)
        try:
            args = po.order_args(body)
            code = self.provider.code(body.get("InstrumentID", ""), body.get("ExchangeID", ""))
            ref = echo["OrderRef"]
            if ref in session.refs:
                raise CtpError(errors.DUPLICATE_ORDER_REF, detail=f"OrderRef {ref}")
            session.refs.add(ref)
            identity = po.Identity(session.front_id, session.session_id, ref)
            frame = await self.trade.call(
                "place_order", price=args.price, qty=args.qty, code=code,
                trd_side=args.trd_side, order_type=args.order_type, remark=identity.remark(),
                time_in_force=args.time_in_force, **self.env())
        except CtpError as exc:  # CTP answers the Rsp first, then the ErrRtn push
            asyncio.get_running_loop().call_soon(
                self.sink.on_push, self.account, "ErrRtnOrderInsert", "InputOrder", echo,
                exc.rsp_info())
            return Reply(rows=[echo], error=exc)
        for row in frame_rows(frame):
            if row.get("order_id") and "order_status" in row and "qty" in row:
                self.push("order", [row])  # place_order's own view: deduplicated later
        return Reply(silent=True)

    def _input_echo(self, session: ClientSession, body: dict) -> dict:
        echo = catalog.blank("InputOrder")
        echo.update({k: v for k, v in body.items() if k in echo})
        ref = str(echo.get("OrderRef") or "").strip()
        if not ref:
            ref = session.next_ref()
        elif digits(ref):
            session.last_ref = max(session.last_ref, int(ref))
        echo.update(OrderRef=ref, BrokerID=self.settings.broker_id,
                    InvestorID=self.investor_id, UserID=session.user_id)
        return echo

    async def order_action(self, session: ClientSession, body: dict) -> Reply:
        echo = catalog.blank("InputOrderAction")
        echo.update({k: v for k, v in body.items() if k in echo})
        echo.update(BrokerID=self.settings.broker_id, InvestorID=self.investor_id,
                    UserID=session.user_id)
        try:
            if (body.get("ActionFlag") or "0") != "0":
                raise CtpError(errors.UNSUPPORTED_FUNCTION,
                               detail="only ActionFlag '0' (delete) is supported by Futu")
            order_id = self._find_order(session, body)
            state = self.orders.get(order_id)
            if state is not None and state.status in po.TERMINAL:
                raise CtpError(errors.ORDER_NOT_CANCELABLE,
                               detail=f"order {order_id} is {state.status}")
            await self.trade.call("modify_order", "CANCEL", order_id, 0, 0, **self.env())
        except CtpError as exc:
            action = catalog.blank("OrderAction")
            action.update({k: v for k, v in echo.items() if k in action})
            asyncio.get_running_loop().call_soon(
                self.sink.on_push, self.account, "ErrRtnOrderAction", "OrderAction", action,
                exc.rsp_info())
            return Reply(rows=[echo], error=exc)
        return Reply(silent=True)

    def _find_order(self, session: ClientSession, body: dict) -> str:
        sys_id = str(body.get("OrderSysID") or "").strip()
        if sys_id:
            return sys_id
        ref = str(body.get("OrderRef") or "").strip()
        if not ref:
            raise CtpError(errors.ORDER_NOT_FOUND,
                           detail="give OrderSysID, or OrderRef (with FrontID/SessionID)")
        identity = po.Identity(body.get("FrontID") or session.front_id,
                               body.get("SessionID") or session.session_id, ref)
        order_id = self.by_identity.get(identity)
        if order_id is None:
            raise CtpError(errors.ORDER_NOT_FOUND,
                           detail=f"no order with FrontID {identity.front_id}, SessionID "
                           f"{identity.session_id}, OrderRef {ref}")
        return order_id

    async def query_orders(self, session: ClientSession, body: dict) -> Reply:
        code = self.code_filter(body)
        rows = await self._refresh_orders(emit=True, code=code,
                                          order_id=(body.get("OrderSysID") or "").strip())
        return Reply(rows=[self._ctp_order(r) for r in rows])

    async def _refresh_orders(self, emit: bool, code: str = "", order_id: str = ""
                              ) -> list[dict]:
        frame = await self.trade.call("order_list_query", order_id=order_id, code=code,
                                      **self.env())
        rows = frame_rows(frame)
        await self.provider.resolve([str(r.get("code")) for r in rows])
        for row in rows:
            state = self._track(row)
            if state is not None and emit:
                self.sink.on_order(self.account, self._ctp_order(row))
        return rows

    async def query_trades(self, session: ClientSession, body: dict) -> Reply:
        frame = await self.trade.call("deal_list_query", code=self.code_filter(body),
                                      **self.env())
        deals = frame_rows(frame)
        if any(str(d.get("order_id")) not in self.orders for d in deals):
            await self._refresh_orders(emit=True)
        await self.provider.resolve([str(d.get("code")) for d in deals])
        trade_id = (body.get("TradeID") or "").strip()
        return Reply(rows=[self._ctp_trade(d) for d in deals
                           if not trade_id or str(d.get("deal_id")) == trade_id])

    def code_filter(self, body: dict) -> str:
        """The Futu code a query's InstrumentID/ExchangeID filter names ("" for none)."""
        instrument_id = (body.get("InstrumentID") or "").strip()
        if not instrument_id:
            return ""
        return self.provider.code(instrument_id, body.get("ExchangeID") or "")

    # --- pushes -------------------------------------------------------------------------------

    def push(self, kind: str, rows: list[dict]) -> None:
        """An order or deal update (from a handler, via the bridge, or from place_order)."""
        for row in rows:
            self._queue.put_nowait((kind, row))

    async def _consume(self) -> None:
        while True:
            kind, row = await self._queue.get()
            try:
                if kind == "order":
                    await self._apply_order(row)
                else:
                    await self._apply_deal(row)
            except Exception:
                log.exception("applying a Futu %s push failed: %r", kind, row)

    async def _apply_order(self, row: dict) -> None:
        if not await self._is_ours(row):
            return
        await self.provider.resolve([str(row.get("code"))])
        if self._track(row) is not None:
            self.sink.on_order(self.account, self._ctp_order(row))

    def _track(self, row: dict) -> OrderState | None:
        """Record an order row; the state if it is news (to be reported), else None."""
        order_id = str(row.get("order_id") or "")
        if not order_id:
            return None
        status, dealt = str(row.get("order_status", "")), float(row.get("dealt_qty") or 0)
        state = self.orders.get(order_id)
        if state is None:
            identity = po.parse_remark(row.get("remark")) or po.Identity()
            state = OrderState(order_id, str(row.get("code", "")), identity)
            self.orders[order_id] = state
            if identity.order_ref:
                self.by_identity[identity] = order_id
            previous = None
        else:
            previous = (state.status, state.dealt)
        if not po.is_newer(previous, (status, dealt)):
            return None
        state.status, state.dealt = status, dealt
        return state

    async def _is_ours(self, row: dict) -> bool:
        """Whether a pushed order belongs to this bridge's account.

        futu-api subscribes the pushes of every account OpenD has, and a push does not name
        its account: another environment's is dropped at once; an order seen before, or
        placed by a session of this bridge, is ours; any other is looked up (once) in this
        account's order list.
        """
        if str(row.get("trd_env") or self.settings.trd_env) != self.settings.trd_env:
            return False
        order_id = str(row.get("order_id") or "")
        if order_id in self.orders:
            return True
        if order_id in self.foreign:
            return False
        identity = po.parse_remark(row.get("remark"))
        if identity is not None and identity.front_id == self.settings.front_id and (
                identity.session_id in self._issued):
            return True
        try:
            frame = await self.trade.call("order_list_query", order_id=order_id, **self.env())
        except CtpError as exc:  # the resync after a reconnect will bring it if it is ours
            log.warning("cannot tell whose order %s is: %s", order_id, exc)
            return False
        if any(str(r.get("order_id")) == order_id for r in frame_rows(frame)):
            return True
        self.foreign.add(order_id)
        return False

    async def _apply_deal(self, deal: dict) -> None:
        deal_id, order_id = str(deal.get("deal_id")), str(deal.get("order_id"))
        if deal_id in self.deals or order_id in self.foreign or str(
                deal.get("trd_env") or self.settings.trd_env) != self.settings.trd_env:
            return
        if order_id not in self.orders:
            try:  # a deal of an order not seen yet: is it ours? learn its identity first
                await self._refresh_orders(emit=True, order_id=order_id)
            except CtpError as exc:  # the resync after a reconnect will bring it back
                log.warning("cannot read order %s of deal %s: %s", order_id, deal_id, exc)
                return
            if order_id not in self.orders:
                self.foreign.add(order_id)
                return
        self.deals.add(deal_id)
        await self.provider.resolve([str(deal.get("code"))])
        self.sink.on_trade(self.account, self._ctp_trade(deal))

    def _ctp_order(self, row: dict) -> dict:
        iid, exchange = self.provider.ctp_id(str(row.get("code")))
        currency = str(row.get("currency") or "")
        return po.ctp_order(row, iid, exchange, self.investor_id,
                            user_id=self.investor_id, broker_id=self.settings.broker_id,
                            currency="" if currency == "N/A" else currency)

    def _ctp_trade(self, deal: dict) -> dict:
        iid, exchange = self.provider.ctp_id(str(deal.get("code")))
        state = self.orders.get(str(deal.get("order_id")))
        return po.ctp_trade(deal, iid, exchange, self.investor_id,
                            identity=state.identity if state else None,
                            user_id=self.investor_id, broker_id=self.settings.broker_id)

