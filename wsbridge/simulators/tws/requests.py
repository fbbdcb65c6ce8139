"""Client requests, decoded from text fields into typed values (server version 176)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wsbridge.simulators.tws.protocol import In, ProtocolViolation

UNSET_DOUBLE = 1.7976931348623157e308


class Fields:
    """Reads a message's fields in order, converting as TWS would."""

    def __init__(self, fields: list[str], start: int = 1) -> None:
        self._fields = fields
        self._at = start

    def str(self) -> str:
        if self._at >= len(self._fields):
            raise ProtocolViolation(f"message {self._fields[:1]} ends early at field {self._at}")
        value = self._fields[self._at]
        self._at += 1
        return value

    def int(self, default: int = 0) -> int:
        text = self.str()
        try:
            return int(text) if text else default
        except ValueError:
            raise ProtocolViolation(f"field {self._at - 1}: {text!r} is not an integer") from None

    def float(self) -> float | None:
        text = self.str()
        if text == "":
            return None
        try:
            value = float(text)
        except ValueError:
            raise ProtocolViolation(f"field {self._at - 1}: {text!r} is not a number") from None
        return None if value == UNSET_DOUBLE else value

    def bool(self) -> bool:
        return self.int() != 0

    def skip(self, count: int) -> None:
        for _ in range(count):
            self.str()

    def left(self) -> int:
        return len(self._fields) - self._at


@dataclass(slots=True)
class ContractQuery:
    """The contract fields a request names (any may be blank)."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade: str = ""
    strike: float | None = None
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""

    @classmethod
    def read(cls, f: Fields, primary: bool = True) -> ContractQuery:
        return cls(con_id=f.int(), symbol=f.str(), sec_type=f.str(), last_trade=f.str(),
                   strike=f.float(), right=f.str(), multiplier=f.str(), exchange=f.str(),
                   primary_exchange=f.str() if primary else "", currency=f.str(),
                   local_symbol=f.str(), trading_class=f.str())


@dataclass(slots=True)
class Request:
    msg_id: int
    req_id: int = -1


@dataclass(slots=True)
class StartApi(Request):
    client_id: int = 0


@dataclass(slots=True)
class MktData(Request):
    contract: ContractQuery = field(default_factory=ContractQuery)
    generic_ticks: str = ""
    snapshot: bool = False


@dataclass(slots=True)
class ContractDetails(Request):
    contract: ContractQuery = field(default_factory=ContractQuery)


@dataclass(slots=True)
class PlaceOrder(Request):
    """The order fields the simulator acts on; the rest are read past."""

    contract: ContractQuery = field(default_factory=ContractQuery)
    action: str = ""
    quantity: float = 0.0
    order_type: str = ""
    limit_price: float | None = None
    aux_price: float | None = None
    tif: str = ""
    account: str = ""
    order_ref: str = ""
    transmit: bool = True
    parent_id: int = 0
    outside_rth: bool = False
    good_till_date: str = ""
    what_if: bool = False
    unsupported: str = ""  # why the simulator cannot take this order, if it cannot


@dataclass(slots=True)
class CancelOrder(Request):
    pass


@dataclass(slots=True)
class AccountUpdates(Request):
    subscribe: bool = True
    account: str = ""


@dataclass(slots=True)
class AccountUpdatesMulti(Request):
    account: str = ""
    model_code: str = ""


@dataclass(slots=True)
class AccountSummary(Request):
    group: str = ""
    tags: str = ""


@dataclass(slots=True)
class Executions(Request):
    client_id: int = 0
    account: str = ""
    time: str = ""
    symbol: str = ""
    sec_type: str = ""
    exchange: str = ""
    side: str = ""


@dataclass(slots=True)
class Simple(Request):
    """A request with at most one value (reqIds' count, a flag, a data type)."""

    value: int = 0


def _place_order(f: Fields) -> PlaceOrder:
    req = PlaceOrder(In.PLACE_ORDER, req_id=f.int())
    req.contract = ContractQuery.read(f)
    f.skip(2)  # secIdType, secId
    req.action, req.quantity = f.str(), f.float() or 0.0
    req.order_type, req.limit_price, req.aux_price = f.str(), f.float(), f.float()
    req.tif = f.str()
    f.skip(1)  # ocaGroup
    req.account = f.str()
    f.skip(2)  # openClose, origin
    req.order_ref, req.transmit, req.parent_id = f.str(), f.bool(), f.int()
    f.skip(4)  # blockOrder, sweepToFill, displaySize, triggerMethod
    req.outside_rth = f.bool()
    f.skip(1)  # hidden
    if req.contract.sec_type == "BAG":
        req.unsupported = "combination (BAG) orders are not simulated"
        return req
    f.skip(3)  # deprecated sharesAllocation, discretionaryAmt, goodAfterTime
    req.good_till_date = f.str()
    f.skip(26)  # faGroup .. volatilityType
    if f.str():  # deltaNeutralOrderType
        f.skip(9)
    else:
        f.skip(1)
    f.skip(6)  # continuousUpdate .. scaleSubsLevelSize
    increment = f.float()
    if increment is not None and increment > 0:
        f.skip(7)
    f.skip(3)  # scaleTable, activeStartTime, activeStopTime
    if f.str():  # hedgeType
        f.skip(1)
    f.skip(4)  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
    if f.bool():  # delta-neutral contract
        f.skip(3)
    if f.str():  # algoStrategy
        f.skip(2 * f.int())
    f.skip(1)  # algoId
    req.what_if = f.bool()
    if req.what_if:
        req.unsupported = "what-if orders are not simulated"
    return req


def decode(fields: list[str]) -> Request:
    """A request from its fields; ProtocolViolation for a malformed one.

    Message ids this simulator does not serve decode to a bare :class:`Request`.
    """
    try:
        msg_id = int(fields[0])
    except (IndexError, ValueError):
        raise ProtocolViolation(f"bad message id in {fields[:3]}") from None
    f = Fields(fields)
    if msg_id == In.PLACE_ORDER:
        return _place_order(f)
    if msg_id == In.REQ_COMPLETED_ORDERS:
        return Simple(msg_id, value=f.int())
    if msg_id not in In.__members__.values():
        return Request(msg_id)
    f.skip(1)  # version
    if msg_id == In.START_API:
        return StartApi(msg_id, client_id=f.int())
    if msg_id == In.REQ_MKT_DATA:
        req = MktData(msg_id, req_id=f.int(), contract=ContractQuery.read(f))
        if req.contract.sec_type == "BAG":
            raise ProtocolViolation("combination market data is not simulated")
        if f.bool():  # delta-neutral contract
            f.skip(3)
        req.generic_ticks, req.snapshot = f.str(), f.bool()
        return req
    if msg_id == In.REQ_CONTRACT_DATA:
        return ContractDetails(msg_id, req_id=f.int(), contract=ContractQuery.read(f))
    if msg_id in (In.CANCEL_MKT_DATA, In.CANCEL_ACCOUNT_SUMMARY,
                  In.CANCEL_ACCOUNT_UPDATES_MULTI):
        return Request(msg_id, req_id=f.int())
    if msg_id == In.CANCEL_ORDER:
        return CancelOrder(msg_id, req_id=f.int())
    if msg_id == In.REQ_ACCT_DATA:
        return AccountUpdates(msg_id, subscribe=f.bool(), account=f.str())
    if msg_id == In.REQ_ACCOUNT_UPDATES_MULTI:
        return AccountUpdatesMulti(msg_id, req_id=f.int(), account=f.str(), model_code=f.str())
    if msg_id == In.REQ_ACCOUNT_SUMMARY:
        return AccountSummary(msg_id, req_id=f.int(), group=f.str(), tags=f.str())
    if msg_id == In.REQ_EXECUTIONS:
        return Executions(msg_id, req_id=f.int(), client_id=f.int(), account=f.str(),
                          time=f.str(), symbol=f.str(), sec_type=f.str(), exchange=f.str(),
                          side=f.str())
    if msg_id in (In.REQ_IDS, In.REQ_AUTO_OPEN_ORDERS, In.REQ_MARKET_DATA_TYPE):
        return Simple(msg_id, value=f.int())
    return Request(msg_id)
