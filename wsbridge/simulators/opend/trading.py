"""sim-opend's trade protocols: accounts, unlock, funds, positions, orders, deals, pushes.

Orders go to the sim exchange as CTP InputOrders; its RtnOrder / RtnTrade events come back
as Trd_UpdateOrder / Trd_UpdateOrderFill pushes to every connection that subscribed the
account (Trd_SubAccPush). The REAL account trades only after Trd_UnlockTrade with the
password's MD5; unlocking holds for the whole simulator, as in OpenD.
"""

from __future__ import annotations

import hmac
import logging
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.opend import protos
from wsbridge.simulators.opend import translate as tr
from wsbridge.simulators.opend.protocol import Refusal
from wsbridge.simulators.opend.venue import REAL, Account

if TYPE_CHECKING:
    from wsbridge.simulators.opend.server import Connection, OpenDServer

log = logging.getLogger("wsbridge.sim_opend")

MODIFY_NORMAL, MODIFY_CANCEL = 1, 2
CURRENCY_OF_MARKET = {tr.TRD_MARKET_HK: "HKD", tr.TRD_MARKET_US: "USD",
                      tr.TRD_MARKET_CN: "CNY", tr.TRD_MARKET_HKCC: "CNY"}
ORDER_TYPES = tuple(tr.ORDER_TYPE_TO_CTP)

# How OpenD words what the exchange refused (CTP ErrorID -> Futu-style text).
REFUSALS = {
    errors.INSUFFICIENT_MONEY: "Insufficient buying power",
    errors.CLOSE_EXCEEDS_POSITION: "Insufficient position: the quantity exceeds the "
                                   "sellable quantity",
    errors.CLOSE_TODAY_EXCEEDS: "Insufficient position: the quantity exceeds the "
                                "sellable quantity",
    errors.CLOSE_YESTERDAY_EXCEEDS: "Insufficient position: the quantity exceeds the "
                                    "sellable quantity",
    errors.INSTRUMENT_NOT_FOUND: "Unknown stock",
    errors.INSTRUMENT_NOT_TRADING: "Market closed: the order cannot be placed now",
    errors.BAD_ORDER_FIELD: "Invalid order",
    errors.ORDER_NOT_FOUND: "Order does not exist",
    errors.ORDER_NOT_CANCELABLE: "Order status does not allow cancelling",
    errors.DUPLICATE_ORDER_REF: "Duplicate order",
}


def refusal(exc: CtpError) -> Refusal:
    """A Futu-style refusal for an exchange rejection (a CtpError)."""
    text = REFUSALS.get(exc.error_id, "Order rejected")
    detail = exc.detail or exc.error_msg
    return Refusal(f"{text}: {detail}" if detail else text)


class TradeService:
    """Trade protocol handlers and the routing of exchange events to push subscribers."""

    def __init__(self, server: OpenDServer, unlock_md5: str) -> None:
        self.server = server
        self.venue = server.venue
        self.unlock_md5 = unlock_md5.lower()
        self.unlocked = False

    def handlers(self) -> dict[int, Callable]:
        return {
            protos.TRD_GET_ACC_LIST: self.accounts,
            protos.TRD_UNLOCK_TRADE: self.unlock,
            protos.TRD_SUB_ACC_PUSH: self.subscribe_pushes,
            protos.TRD_GET_FUNDS: self.funds,
            protos.TRD_GET_POSITION_LIST: self.positions,
            protos.TRD_GET_ORDER_LIST: self.orders,
            protos.TRD_GET_ORDER_FILL_LIST: self.fills,
            protos.TRD_PLACE_ORDER: self.place_order,
            protos.TRD_MODIFY_ORDER: self.modify_order,
        }

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self, conn: Connection, c2s: Any) -> dict:
        if c2s.HasField("trdCategory") and c2s.trdCategory not in (0, 1):
            return {"accList": []}  # futures / crypto: the simulator has none
        out = []
        for account in self.venue.accounts.values():
            real = account.trd_env == REAL
            row = {"trdEnv": account.trd_env, "accID": account.acc_id,
                   "trdMarketAuthList": account.markets, "accType": 2 if real else 1,
                   "cardNum": f"{account.acc_id:016d}", "uniCardNum": f"{account.acc_id}",
                   "accStatus": 0, "accRole": 1}
            if real:
                row["securityFirm"] = 1
            else:
                row["simAccType"] = 1
            out.append(row)
        return {"accList": out}

    def unlock(self, conn: Connection, c2s: Any) -> dict:
        if not c2s.unlock:
            self.unlocked = False
            return {}
        given = (c2s.pwdMD5 or "").lower()
        if not hmac.compare_digest(given.encode(), self.unlock_md5.encode()):
            raise Refusal("Unlock failed: wrong password")
        self.unlocked = True
        return {}

    def subscribe_pushes(self, conn: Connection, c2s: Any) -> dict:
        unknown = [a for a in c2s.accIDList if a not in self.venue.accounts]
        if unknown:
            raise Refusal(f"Nonexistent account: {unknown[0]}")
        conn.acc_push = set(c2s.accIDList)
        return {}

    def _account(self, header: Any) -> Account:
        account = self.venue.accounts.get(header.accID)
        if account is None or account.trd_env != header.trdEnv:
            env = "REAL" if header.trdEnv == REAL else "SIMULATE"
            raise Refusal(f"Nonexistent account: {header.accID} ({env})")
        return account

    def _header(self, header: Any) -> dict:
        return {"trdEnv": header.trdEnv, "accID": header.accID, "trdMarket": header.trdMarket}

    def _codes(self, c2s: Any) -> set[str]:
        if not c2s.HasField("filterConditions"):
            return set()
        return set(c2s.filterConditions.codeList)

    # --- queries ----------------------------------------------------------------------------

    def funds(self, conn: Connection, c2s: Any) -> dict:
        account = self._account(c2s.header)
        if c2s.HasField("currency") and c2s.currency:
            currency = tr.CURRENCY_OF.get(c2s.currency, "")
        else:
            currency = CURRENCY_OF_MARKET.get(c2s.header.trdMarket, "HKD")
        funds = self.venue.funds(account, currency) if currency else None
        if funds is None:
            raise Refusal(f"Unsupported currency {c2s.currency} for this account")
        return {"header": self._header(c2s.header), "funds": funds}

    def positions(self, conn: Connection, c2s: Any) -> dict:
        account = self._account(c2s.header)
        codes = self._codes(c2s)
        rows = [p for p in self.venue.positions(account) if not codes or p["code"] in codes]
        return {"header": self._header(c2s.header), "positionList": rows}

    def orders(self, conn: Connection, c2s: Any) -> dict:
        account = self._account(c2s.header)
        rows = self.venue.orders(account)
        if c2s.HasField("filterConditions"):
            f = c2s.filterConditions
            if len(f.codeList):
                rows = [o for o in rows if o["code"] in set(f.codeList)]
            if len(f.orderIDExList) or len(f.idList):
                ids = set(f.orderIDExList) | {str(i) for i in f.idList}
                rows = [o for o in rows if o["orderIDEx"] in ids or str(o["orderID"]) in ids]
        if len(c2s.filterStatusList):
            rows = [o for o in rows if o["orderStatus"] in set(c2s.filterStatusList)]
        return {"header": self._header(c2s.header), "orderList": rows}

    def fills(self, conn: Connection, c2s: Any) -> dict:
        account = self._account(c2s.header)
        codes = self._codes(c2s)
        rows = [f for f in self.venue.fills(account) if not codes or f["code"] in codes]
        return {"header": self._header(c2s.header), "orderFillList": rows}

    # --- orders -----------------------------------------------------------------------------

    def _check_unlocked(self, account: Account) -> None:
        if account.trd_env == REAL and not self.unlocked:
            raise Refusal("Trading is locked: unlock trade first (Trd_UnlockTrade)")

    def place_order(self, conn: Connection, c2s: Any) -> tuple[dict, Callable[[], None]]:
        account = self._account(c2s.header)
        self._check_unlocked(account)
        market = tr.MARKET_OF_SEC.get(c2s.secMarket) if c2s.HasField("secMarket") else None
        stock = self.venue.stock(market or _market_of_trd(c2s.header.trdMarket, c2s.code),
                                 c2s.code)
        if stock is None:
            raise Refusal(f"Unknown stock {market or ''}.{c2s.code}".replace(" .", " "))
        if c2s.trdSide not in tr.SIDE_TO_CTP:
            raise Refusal(f"Invalid order: trdSide {c2s.trdSide}")
        if c2s.orderType not in ORDER_TYPES:
            raise Refusal(f"Order type {c2s.orderType} is not supported by sim-opend")
        qty = c2s.qty
        if not math.isfinite(qty) or qty <= 0 or qty != int(qty):
            raise Refusal(f"Invalid order: quantity {qty:g} must be a positive whole number")
        price = c2s.price if c2s.HasField("price") else 0.0
        inp = tr.input_order(stock, c2s.trdSide, c2s.orderType, int(qty), price,
                             c2s.timeInForce if c2s.HasField("timeInForce") else 0)
        try:
            events = self.venue.exchange.insert_order(account.session, inp)
        except CtpError as exc:
            raise refusal(exc) from None
        sys_id = next((str(e[3].get("OrderSysID", "")).strip() for e in events
                       if e[1] == "RtnOrder" and str(e[3].get("OrderSysID", "")).strip()), "")
        if c2s.HasField("remark") and sys_id:
            self.venue.remarks.put(account.key, sys_id, c2s.remark)
        s2c = {"header": self._header(c2s.header), "orderID": tr.order_id_of(sys_id),
               "orderIDEx": sys_id}
        return s2c, lambda: self.dispatch(events)

    def modify_order(self, conn: Connection, c2s: Any) -> tuple[dict, Callable[[], None]]:
        account = self._account(c2s.header)
        self._check_unlocked(account)
        if c2s.modifyOrderOp != MODIFY_CANCEL:
            raise Refusal(f"modifyOrderOp {c2s.modifyOrderOp} is not supported by sim-opend "
                          "(only cancelling is)")
        live = {str(o.get("OrderSysID", "")).strip(): o
                for o in self.venue.exchange.orders_of(account.key)}
        if c2s.forAll:
            targets = [o for o in live.values() if o.get("OrderStatus") in ("1", "3", "a")]
            sys_id = ""
        else:
            sys_id = c2s.orderIDEx if c2s.HasField("orderIDEx") and c2s.orderIDEx else str(
                c2s.orderID)
            if sys_id not in live:
                raise Refusal(f"Order does not exist: {sys_id}")
            targets = [live[sys_id]]
        events: list[Any] = []
        for order in targets:
            action = {"OrderSysID": order["OrderSysID"], "ExchangeID": order["ExchangeID"],
                      "InstrumentID": order["InstrumentID"], "ActionFlag": "0"}
            try:
                events.extend(self.venue.exchange.cancel_order(account.session, action))
            except CtpError as exc:
                if not c2s.forAll:
                    raise refusal(exc) from None
        s2c = {"header": self._header(c2s.header), "orderID": tr.order_id_of(sys_id or "0"),
               "orderIDEx": sys_id}
        return s2c, lambda: self.dispatch(events)

    # --- pushes -----------------------------------------------------------------------------

    def dispatch(self, events: Iterable[Any]) -> None:
        """Push exchange events to the connections subscribed to their account."""
        for account, kind, fields in self.venue.route(events):
            conns = [c for c in self.server.connections if account.acc_id in c.acc_push]
            if not conns:
                continue
            header = {"trdEnv": account.trd_env, "accID": account.acc_id,
                      "trdMarket": fields.get("trdMarket", 0)}
            if kind == "order":
                self.server.push(conns, protos.TRD_UPDATE_ORDER,
                                 {"header": header, "order": fields})
            else:
                self.server.push(conns, protos.TRD_UPDATE_ORDER_FILL,
                                 {"header": header, "orderFill": fields})


def _market_of_trd(trd_market: int, code: str) -> str:
    if trd_market == tr.TRD_MARKET_HK:
        return "HK"
    if trd_market == tr.TRD_MARKET_US:
        return "US"
    return "SH" if code.startswith(("5", "6", "9")) else "SZ"

