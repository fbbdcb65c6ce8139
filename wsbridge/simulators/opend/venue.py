"""The Futu view of the sim exchange: stocks by Futu code, Futu accounts, order remarks.

One simulated Futu user owns two securities accounts, a paper (SIMULATE) one and a
"real" (REAL) one that needs unlocking, each an account of the sim exchange. What CTP
has no field for is kept here: an order's Futu remark (in a small SQLite file next to the
exchange journal) and its average fill price (from the exchange's trades).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wsbridge.simulators.opend import translate as tr
from wsbridge.simulators.opend.translate import Stock

LOGIN_USER_ID = 10_000_001
SIMULATE, REAL = 0, 1  # Trd_Common.TrdEnv
BROKER_ID = "futu"


@dataclass(slots=True, eq=False)
class Account:
    """A Futu securities account backed by a sim exchange account."""

    acc_id: int
    trd_env: int
    markets: list[int]  # TrdMarket auth list
    session: Any = None  # the sim exchange Session
    fills: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # (price, volume)

    @property
    def key(self) -> str:
        return f"{BROKER_ID}:{self.acc_id}"

    def trd_market_of(self) -> dict[str, int]:
        """The TrdMarket each stock market trades in for this account."""
        cn = tr.TRD_MARKET_CN if self.trd_env == SIMULATE else tr.TRD_MARKET_HKCC
        return {"HK": tr.TRD_MARKET_HK, "US": tr.TRD_MARKET_US, "SH": cn, "SZ": cn}

    def fill_avg(self, sys_id: str, traded: int) -> float:
        """The average price of an order's first ``traded`` filled shares."""
        left, value = traded, 0.0
        for price, volume in self.fills.get(sys_id, ()):
            take = min(volume, left)
            value += take * price
            left -= take
            if not left:
                break
        done = traded - left
        return round(value / done, 6) if done else 0.0

    def add_fill(self, trade: dict) -> None:
        sys_id = str(trade.get("OrderSysID", "")).strip()
        self.fills.setdefault(sys_id, []).append(
            (float(trade.get("Price") or 0.0), int(trade.get("Volume") or 0)))


class Remarks:
    """Order remarks by OrderSysID, kept across restarts when there is a journal."""

    def __init__(self, path: str | None) -> None:
        self._db = sqlite3.connect(path or ":memory:", isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS remark (account TEXT, sys_id TEXT, "
                         "text TEXT, PRIMARY KEY (account, sys_id))")
        self._cache: dict[tuple[str, str], str] = {
            (a, s): t for a, s, t in self._db.execute("SELECT account, sys_id, text FROM remark")
        }

    def get(self, account: str, sys_id: str) -> str:
        return self._cache.get((account, sys_id), "")

    def put(self, account: str, sys_id: str, text: str) -> None:
        if not text:
            return
        self._cache[(account, sys_id)] = text
        self._db.execute("INSERT OR REPLACE INTO remark VALUES (?, ?, ?)",
                         (account, sys_id, text))

    def close(self) -> None:
        self._db.close()


class Venue:
    """The exchange, its stocks as Futu lists them, and the Futu accounts."""

    def __init__(self, exchange: Any, journal: str | None = None) -> None:
        self.exchange = exchange
        self.stocks: dict[str, Stock] = {}  # Futu code -> stock
        self.by_instrument: dict[str, Stock] = {}
        for inst in exchange.instruments.values():
            stock = _stock_of(inst)
            if stock is not None:
                self.stocks[stock.code] = stock
                self.by_instrument[stock.instrument_id] = stock
        self.accounts = {
            1_000_001: Account(1_000_001, SIMULATE,
                               [tr.TRD_MARKET_HK, tr.TRD_MARKET_US, tr.TRD_MARKET_CN]),
            2_000_001: Account(2_000_001, REAL,
                               [tr.TRD_MARKET_HK, tr.TRD_MARKET_US, tr.TRD_MARKET_HKCC]),
        }
        self.by_key = {a.key: a for a in self.accounts.values()}
        for account in self.accounts.values():
            account.session = exchange.login(BROKER_ID, str(account.acc_id), "sim-opend")
            for trade in exchange.trades_of(account.key):
                account.add_fill(trade)
        self.remarks = Remarks(f"{journal}.remarks" if journal else None)

    def close(self) -> None:
        self.remarks.close()
        close = getattr(self.exchange, "close", None)
        if close is not None:
            close()

    def stock(self, market: int | str, symbol: str) -> Stock | None:
        """A stock by Futu market (QotMarket number or name) and symbol."""
        name = tr.MARKET_OF_QOT.get(market, "") if isinstance(market, int) else market
        return self.stocks.get(f"{name}.{symbol}")

    def order(self, account: Account, ctp: dict) -> dict | None:
        """The Futu order for a CTP order of ``account`` (None before it has an id)."""
        sys_id = str(ctp.get("OrderSysID", "")).strip()
        stock = self.by_instrument.get(ctp.get("InstrumentID", ""))
        if not sys_id or stock is None:
            return None
        return tr.order(stock, ctp, self.remarks.get(account.key, sys_id),
                        account.fill_avg(sys_id, int(ctp.get("VolumeTraded") or 0)),
                        account.trd_market_of()[stock.market])

    def fill(self, account: Account, trade: dict) -> dict | None:
        stock = self.by_instrument.get(trade.get("InstrumentID", ""))
        if stock is None:
            return None
        return tr.order_fill(stock, trade, account.trd_market_of()[stock.market])

    def orders(self, account: Account) -> list[dict]:
        out = (self.order(account, o) for o in self.exchange.orders_of(account.key))
        return [o for o in out if o is not None]

    def fills(self, account: Account) -> list[dict]:
        out = (self.fill(account, t) for t in self.exchange.trades_of(account.key))
        return [f for f in out if f is not None]

    def positions(self, account: Account) -> list[dict]:
        rows = self.exchange.query(account.session, "ReqQryInvestorPosition", {})
        marks = {}
        for row in rows:
            iid = row.get("InstrumentID", "")
            if iid in self.by_instrument and iid not in marks:
                marks[iid] = float(self.exchange.depth(iid).get("LastPrice") or 0.0)
        return tr.positions(self.by_instrument, rows, marks, account.trd_market_of())

    def funds(self, account: Account, currency: str) -> dict | None:
        rows = self.exchange.query(account.session, "ReqQryTradingAccount",
                                   {"CurrencyID": currency})
        return tr.funds(rows[0], currency) if rows else None

    def route(self, events: Iterable[Any]) -> list[tuple[Account, str, dict]]:
        """Exchange events as Futu pushes: (account, "order" | "fill", Futu fields)."""
        events = [e for e in events if e[0] in self.by_key]
        for event in events:  # fills first: an order is pushed before its trade
            if event[1] == "RtnTrade":
                self.by_key[event[0]].add_fill(event[3])
        out = []
        for event in events:
            account = self.by_key[event[0]]
            if event[1] == "RtnOrder":
                futu_order = self.order(account, event[3])
                if futu_order is not None:
                    out.append((account, "order", futu_order))
            elif event[1] == "RtnTrade":
                futu_fill = self.fill(account, event[3])
                if futu_fill is not None:
                    out.append((account, "fill", futu_fill))
        return out


def _stock_of(inst: Any) -> Stock | None:
    fields = inst.fields
    if fields.get("ProductClass") != "4":
        return None
    exchange = fields.get("ExchangeID", "")
    market = tr.EXCHANGE_MARKET.get(exchange)
    if market is None:
        return None
    return Stock(
        market=market, symbol=inst.id, instrument_id=inst.id, exchange_id=exchange,
        name=fields.get("InstrumentName") or inst.id,
        lot=int(fields.get("MinLimitOrderVolume") or 1),
        tick=float(fields.get("PriceTick") or 0.01),
        currency=getattr(getattr(inst, "spec", None), "currency", "") or "USD",
    )
