"""The TWS core of sim-tws: IB orders on the sim exchange, IB views of its state.

One IB account is one sim exchange account. An IB order becomes one CTP order (its
OrderRef is the IB permId); the exchange's RtnOrder / RtnTrade events become IB order
states and executions. Commissions are what the exchange charged (the change in its
per-instrument totals); account values are built in :mod:`.accounts`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.exchange import Exchange, OrderRejected
from wsbridge.simulators.tws import accounts
from wsbridge.simulators.tws.accounts import Holding
from wsbridge.simulators.tws.contracts import ContractDef, SecurityMaster, define
from wsbridge.simulators.tws.records import SimExecution, SimOrder
from wsbridge.simulators.tws.requests import Executions, PlaceOrder
from wsbridge.simulators.tws.store import Store

# CTP enums the broker writes (CThostFtdc*Type).
_BUY, _SELL, _OPEN, _CLOSE, _CLOSE_TODAY = "0", "1", "0", "1", "3"
_STATUS = {"0": "Filled", "1": "Submitted", "3": "Submitted", "a": "PreSubmitted",
           "2": "Cancelled", "4": "Cancelled", "5": "Cancelled"}


class TwsError(Exception):
    """An IB error message to send: (req_id, code, text)."""

    def __init__(self, req_id: int, code: int, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.req_id, self.code, self.text = req_id, code, text


@dataclass(slots=True)
class Updates:
    """What an exchange operation changed, in the order TWS reports it."""

    orders: list[SimOrder] = field(default_factory=list)
    executions: list[SimExecution] = field(default_factory=list)


def _utc_stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y%m%d %H:%M:%S UTC")


def reject_reason(exc: CtpError) -> tuple[int, str]:
    """TWS's error code and text for an exchange rejection."""
    why = exc.error_msg + (f" ({exc.detail})" if exc.detail else "")
    if exc.error_id == errors.INSTRUMENT_NOT_FOUND:
        return 200, "No security definition has been found for the request"
    if exc.error_id == errors.BAD_ORDER_FIELD and "PriceTick" in why:
        return 110, "The price does not conform to the minimum price variation for this " \
                    f"contract. ({why})"
    if exc.error_id in (errors.CLOSE_EXCEEDS_POSITION, errors.CLOSE_TODAY_EXCEEDS,
                        errors.CLOSE_YESTERDAY_EXCEEDS):
        return 201, ("Order rejected - reason:the order exceeds the position it would close "
                     f"(sim-tws neither sells short nor flips a position in one order). {why}")
    if exc.error_id == errors.INSUFFICIENT_MONEY:
        return 201, ("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN "
                     "THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE MUST EXCEED THE "
                     f"INITIAL MARGIN. {why}")
    if exc.error_id == errors.INSTRUMENT_NOT_TRADING:
        return 201, f"Order rejected - reason:trading is halted for this contract. {why}"
    return 201, f"Order rejected - reason:{why}"


class Broker:
    """IB's view of one sim exchange account."""

    def __init__(self, exchange: Exchange, account: str, store: Store,
                 base_currency: str = "USD", clock=time.time) -> None:
        self.exchange = exchange
        self.account = account
        self.store = store
        self.base = base_currency
        self._clock = clock
        self.session = exchange.login("IB", account, "sim-tws")
        self.day = ""
        self.master = SecurityMaster([])
        self._orders: dict[int, SimOrder] = {}  # by permId
        self._by_client: dict[tuple[int, int], SimOrder] = {}
        self._executions: list[SimExecution] = []
        self._exec_ids: set[str] = set()
        self._commission: dict[str, float] = {}
        self._start_day()

    # --- state ---------------------------------------------------------------------------

    def _start_day(self) -> None:
        """Load the current trading day: its contracts, orders and executions."""
        self.day = self.exchange.trading_day
        self.master = SecurityMaster(
            [define(i.fields) for i in self.exchange.instruments.values()])
        self._orders.clear()
        self._by_client.clear()
        self._executions.clear()
        self._exec_ids.clear()
        for record in self.store.orders(self.day):
            contract = self.master.by_instrument(record.pop("instrument_id"))
            if contract is not None:
                self._remember(SimOrder(contract=contract, **record))
        for record in self.store.executions(self.day):
            order = self._orders.get(record.pop("perm_id"))
            if order is not None:
                self._executions.append(SimExecution(order=order, **record))
                self._exec_ids.add(record["exec_id"])
        self._commission = self._totals("Commission")
        self._reconcile()

    def _reconcile(self) -> None:
        """Catch up with what the exchange journaled that this store did not (a crash)."""
        account = self.session.account
        for body in self.exchange.orders_of(account):
            self._update_order(body)
        for trade in self.exchange.trades_of(account):
            order = self._order_of(trade)
            if order is not None and self._exec_id(order, trade) not in self._exec_ids:
                self._save_execution(self._execution(order, trade))
        for order in self._orders.values():
            self._save_order(order)

    def _remember(self, order: SimOrder) -> None:
        self._orders[order.perm_id] = order
        self._by_client[(order.client_id, order.order_id)] = order

    def _save_order(self, order: SimOrder) -> None:
        record = {k: v for k, v in asdict(order).items() if k != "contract"}
        record["instrument_id"] = order.contract.instrument_id
        self.store.save_order(order.perm_id, self.day, record)

    def _save_execution(self, e: SimExecution) -> None:
        record = {k: v for k, v in asdict(e).items() if k != "order"}
        record["perm_id"] = e.order.perm_id
        self.store.save_execution(e.exec_id, self.day, e.order.perm_id, record)

    def next_order_id(self, client_id: int) -> int:
        return int(self.store.meta(f"next_id:{client_id}", "1"))

    def _new_perm_id(self) -> int:
        """TWS never reuses a permId: a fresh store starts from the clock, not from 1."""
        first = int(self._clock()) % 10_000_000 * 100 + 1
        perm = int(self.store.meta("next_perm", str(first)))
        self.store.set_meta("next_perm", str(perm + 1))
        return perm

    # --- orders --------------------------------------------------------------------------

    def place(self, client_id: int, req: PlaceOrder) -> Updates:
        """Place an IB order; TwsError (with TWS's code) when TWS would refuse it."""
        order_id = req.req_id
        self._check_day()
        if req.unsupported:
            raise TwsError(order_id, 387, f"Unsupported order: {req.unsupported}")
        if (client_id, order_id) in self._by_client:
            raise TwsError(order_id, 103, "Duplicate order id")
        found = self.master.find(req.contract)
        if not found:
            raise TwsError(order_id, 200, "No security definition has been found for the "
                                          "request")
        if len(found) > 1:
            raise TwsError(order_id, 200, "The contract description specified is ambiguous")
        contract = found[0]
        self._check_terms(req)
        inst = self.exchange.lookup(contract.instrument_id)
        buy = req.action == "BUY"
        perm = self._new_perm_id()
        order = SimOrder(
            perm_id=perm, client_id=client_id, order_id=order_id, account=self.account,
            contract=contract, action=req.action, quantity=req.quantity,
            order_type=req.order_type, limit_price=req.limit_price,
            tif=req.tif or "DAY", order_ref=req.order_ref, outside_rth=req.outside_rth,
            good_till_date=req.good_till_date, parent_id=req.parent_id)
        market = req.order_type == "MKT"
        input_order = {
            "InstrumentID": contract.instrument_id, "ExchangeID": contract.exchange_id,
            "OrderRef": str(perm), "Direction": _BUY if buy else _SELL,
            "CombOffsetFlag": self._offset(inst, buy, int(req.quantity)),
            "CombHedgeFlag": "1", "OrderPriceType": "1" if market else "2",
            "LimitPrice": 0.0 if market else float(req.limit_price or 0.0),
            "VolumeTotalOriginal": int(req.quantity),
            "TimeCondition": "3" if order.tif == "DAY" else "1",
            "VolumeCondition": "3" if order.tif == "FOK" else "1",
            "ContingentCondition": "1", "MinVolume": 1,
        }
        self.store.set_meta(f"next_id:{client_id}",
                            str(max(self.next_order_id(client_id), order_id + 1)))
        try:
            events = self.exchange.insert_order(self.session, input_order)
        except OrderRejected as exc:
            raise TwsError(order_id, *reject_reason(exc)) from None
        self._remember(order)
        return self._apply(events, always=[order])

    def _check_terms(self, req: PlaceOrder) -> None:
        order_id = req.req_id
        if req.account and req.account != self.account:
            raise TwsError(order_id, 321, f"Error validating request:-'account' : cause - "
                                          f"account {req.account} is not managed here")
        if req.action not in ("BUY", "SELL"):
            raise TwsError(order_id, 321, f"Error validating request:-'action' : cause - "
                                          f"invalid action {req.action!r}")
        if req.quantity <= 0:
            raise TwsError(order_id, 434, "The order size cannot be zero")
        if req.quantity != int(req.quantity):
            raise TwsError(order_id, 321, "Error validating request:-'quantity' : cause - "
                                          "fractional sizes are not simulated")
        if req.order_type not in ("LMT", "MKT"):
            raise TwsError(order_id, 387, "Unsupported order type for this exchange and "
                                          f"security type ({req.order_type!r}: sim-tws "
                                          "simulates LMT and MKT)")
        if req.order_type == "LMT" and not (req.limit_price and req.limit_price > 0):
            raise TwsError(order_id, 463, "You must enter a valid price")
        if (req.tif or "DAY") not in ("DAY", "IOC", "FOK"):
            raise TwsError(order_id, 201, f"Order rejected - reason:time in force {req.tif} "
                           "is not simulated (the sim exchange ends every order with its "
                           "trading day)")
        if req.parent_id or not req.transmit:
            raise TwsError(order_id, 201, "Order rejected - reason:attached and untransmitted "
                                          "orders are not simulated")

    def _offset(self, inst, buy: bool, volume: int) -> str:
        """CTP offset for a net-position IB order: stocks buy to open and sell to close;
        futures close the opposite side when it covers the order, else open."""
        if inst.is_stock:
            return _OPEN if buy else _CLOSE
        account = self.exchange.account_of(self.session)
        yd, today = self.exchange.closeable(account, inst, buy)
        if yd + today == 0:
            return _OPEN
        if inst.split_today and yd < volume <= today:
            return _CLOSE_TODAY
        return _CLOSE  # more than the position is refused by the exchange (ErrorID 30)

    def cancel(self, client_id: int, order_id: int) -> Updates:
        order = self._by_client.get((client_id, order_id))
        if order is None:
            raise TwsError(order_id, 10147,
                           f"OrderId {order_id} that needs to be cancelled is not found.")
        if not order.working:
            raise TwsError(order_id, 10148, f"OrderId {order_id} that needs to be cancelled "
                                            f"cannot be cancelled, state: {order.status}.")
        try:
            events = self.exchange.cancel_order(self.session, {
                "OrderSysID": order.exchange_key, "ExchangeID": order.contract.exchange_id})
        except OrderRejected as exc:
            code = 10147 if exc.error_id == errors.ORDER_NOT_FOUND else 10148
            raise TwsError(order_id, code, f"OrderId {order_id} that needs to be cancelled "
                                           f"cannot be cancelled: {exc.error_msg}") from None
        return self._apply(events, always=[order])

    def cancel_all(self) -> Updates:
        out = Updates()
        for order in [o for o in self._orders.values() if o.working]:
            done = self.cancel(order.client_id, order.order_id)
            out.orders += done.orders
        return out

    def advance(self) -> Updates:
        """Run the exchange to now: resting orders fill, the day may roll."""
        updates = self._apply(self.exchange.advance())
        self._check_day()
        return updates

    def _check_day(self) -> None:
        if self.exchange.trading_day != self.day:
            self._start_day()

    # --- exchange events -----------------------------------------------------------------

    def _order_of(self, body: dict) -> SimOrder | None:
        ref = str(body.get("OrderRef", ""))
        return self._orders.get(int(ref)) if ref.isdigit() else None

    def _update_order(self, body: dict) -> SimOrder | None:
        order = self._order_of(body)
        if order is None:
            return None
        order.status = _STATUS.get(body.get("OrderStatus", ""), order.status)
        order.filled = float(body.get("VolumeTraded", order.filled))
        order.exchange_key = body.get("OrderSysID", "") or order.exchange_key
        if not order.working and not order.completed_time:
            order.completed_time = _utc_stamp(self._clock())
        return order

    @staticmethod
    def _exec_id(order: SimOrder, trade: dict) -> str:
        return f"{order.perm_id:08x}.{int(trade['TradeID']):08x}.01.01"

    def _execution(self, order: SimOrder, trade: dict) -> SimExecution:
        mine = [e for e in self._executions if e.order is order]
        shares, price = float(trade["Volume"]), float(trade["Price"])
        cum = sum(e.shares for e in mine) + shares
        turnover = sum(e.shares * e.price for e in mine) + shares * price
        e = SimExecution(self._exec_id(order, trade), order, shares, price,
                         _utc_stamp(self._clock()), cum, turnover / cum)
        self._executions.append(e)
        self._exec_ids.add(e.exec_id)
        order.avg_fill_price, order.last_fill_price = e.avg_price, price
        return e

    def _apply(self, events: Iterable, always: Iterable[SimOrder] = ()) -> Updates:
        touched: dict[int, SimOrder] = {o.perm_id: o for o in always}
        executions = []
        for event in events:
            if event.msg_type == "RtnOrder":
                order = self._update_order(event.body)
            elif event.msg_type == "RtnTrade":
                order = self._order_of(event.body)
                if order is not None:
                    executions.append(self._execution(order, event.body))
            else:
                continue
            if order is not None:
                touched[order.perm_id] = order
        if executions:
            self._charge(executions)
        for order in touched.values():
            self._save_order(order)
        for e in executions:
            self._save_execution(e)
        return Updates(list(touched.values()), executions)

    def _totals(self, column: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for row in self.exchange.query(self.session, "ReqQryInvestorPosition", {}):
            out[row["InstrumentID"]] = out.get(row["InstrumentID"], 0.0) + row[column]
        return out

    def _charge(self, executions: list[SimExecution]) -> None:
        """Each execution's commission: the exchange's per-instrument increase, by share."""
        before = self._commission if self.exchange.trading_day == self.day else {}
        after = self._totals("Commission")
        self._commission = after
        shares: dict[str, float] = {}
        for e in executions:
            iid = e.order.contract.instrument_id
            shares[iid] = shares.get(iid, 0.0) + e.shares
        for e in executions:
            iid = e.order.contract.instrument_id
            charged = after.get(iid, 0.0) - before.get(iid, 0.0)
            e.commission = round(max(charged, 0.0) * e.shares / shares[iid], 8)

    # --- views ---------------------------------------------------------------------------

    def open_orders(self, client_id: int | None = None) -> list[SimOrder]:
        return [o for o in self._orders.values()
                if o.working and (client_id is None or o.client_id == client_id)]

    def completed_orders(self) -> list[SimOrder]:
        return [o for o in self._orders.values() if not o.working]

    def executions(self, query: Executions) -> list[SimExecution]:
        def fits(e: SimExecution) -> bool:
            c = e.order.contract
            return ((not query.client_id or e.order.client_id == query.client_id)
                    and (not query.account or query.account == self.account)
                    and (not query.symbol or query.symbol.upper() == c.symbol.upper())
                    and (not query.sec_type or query.sec_type == c.sec_type)
                    and (not query.side or query.side.upper()[:1] == e.side[:1]
                         or query.side.upper() == e.order.action)
                    and (not query.time or e.time[:17] >= query.time[:17]))

        return [e for e in self._executions if fits(e)]

    def holdings(self, include_flat: bool = False) -> list[Holding]:
        """Net positions per contract, marked to the exchange's last price."""
        rows = self.exchange.query(self.session, "ReqQryInvestorPosition", {})
        return accounts.holdings(rows, self.master, include_flat)

    def money(self) -> dict[str, dict]:
        """The exchange's TradingAccount row per currency it lists instruments in."""
        currencies = sorted({i.spec.currency for i in self.exchange.instruments.values()})
        out = {}
        for currency in currencies:
            rows = self.exchange.query(self.session, "ReqQryTradingAccount",
                                       {"CurrencyID": currency})
            if rows:
                out[currency] = rows[0]
        return out

    def account_values(self) -> list[tuple[str, float | str, str]]:
        """(tag, value, currency) as reqAccountUpdates reports them."""
        return accounts.account_values(self.account, self.base, self.money(),
                                       self.holdings())

    def contract(self, con_id: int) -> ContractDef | None:
        return self.master.by_con_id(con_id)

    def depth(self, contract: ContractDef) -> dict:
        return self.exchange.depth(contract.instrument_id)
