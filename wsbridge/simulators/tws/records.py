"""What the simulator remembers about IB orders and executions."""

from __future__ import annotations

from dataclasses import dataclass

from wsbridge.simulators.tws.contracts import ContractDef

WORKING = frozenset({"PreSubmitted", "Submitted", "PendingCancel"})


@dataclass(slots=True)
class SimOrder:
    """One IB order: its API identity, its terms and its state."""

    perm_id: int
    client_id: int
    order_id: int
    account: str
    contract: ContractDef
    action: str  # BUY / SELL
    quantity: float
    order_type: str  # LMT / MKT
    limit_price: float | None
    tif: str
    order_ref: str = ""
    outside_rth: bool = False
    good_till_date: str = ""
    parent_id: int = 0
    status: str = "PreSubmitted"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    completed_time: str = ""
    exchange_key: str = ""  # the sim exchange's OrderSysID for it

    @property
    def remaining(self) -> float:
        return max(self.quantity - self.filled, 0.0) if self.status != "Cancelled" else 0.0

    @property
    def working(self) -> bool:
        return self.status in WORKING


@dataclass(slots=True)
class SimExecution:
    """One fill of an order, with its commission."""

    exec_id: str
    order: SimOrder
    shares: float
    price: float
    time: str  # "YYYYMMDD HH:MM:SS UTC"
    cum_qty: float
    avg_price: float
    commission: float = 0.0
    realized_pnl: float | None = None

    @property
    def side(self) -> str:
        return "BOT" if self.order.action == "BUY" else "SLD"
