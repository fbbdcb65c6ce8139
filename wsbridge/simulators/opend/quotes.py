"""sim-opend's quote protocols: subscriptions, quotes, order books, snapshots, pushes.

As in OpenD, QUOTE and ORDER_BOOK data can be read or pushed only for codes the
connection subscribed; subscribing with ``isRegOrUnRegPush`` also registers the pushes,
and ``isFirstPush`` sends the current data at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from wsbridge.simulators.opend import protos
from wsbridge.simulators.opend import translate as tr
from wsbridge.simulators.opend.protocol import Refusal
from wsbridge.simulators.opend.translate import Stock

if TYPE_CHECKING:
    from wsbridge.simulators.opend.server import Connection, OpenDServer

SUPPORTED = (tr.SUB_TYPE_BASIC, tr.SUB_TYPE_ORDER_BOOK)
QUOTA = 1000


class QuoteService:
    """Quote protocol handlers and the quote pushes of each market tick."""

    def __init__(self, server: OpenDServer) -> None:
        self.server = server
        self.venue = server.venue
        self._last: dict[str, tuple] = {}  # code -> signature of the last pushed depth

    def handlers(self) -> dict[int, Callable]:
        return {
            protos.QOT_SUB: self.subscribe,
            protos.QOT_REG_QOT_PUSH: self.register_push,
            protos.QOT_GET_SUB_INFO: self.sub_info,
            protos.QOT_GET_BASIC_QOT: self.basic_quotes,
            protos.QOT_GET_ORDER_BOOK: self.order_book,
            protos.QOT_GET_STATIC_INFO: self.static_info,
            protos.QOT_GET_SECURITY_SNAPSHOT: self.snapshots,
            protos.QOT_GET_MARKET_STATE: self.market_states,
        }

    def market_state(self) -> int:
        return tr.MARKET_STATE_TRADING

    def _stocks(self, securities: Iterable[Any]) -> list[Stock]:
        out = []
        for sec in securities:
            stock = self.venue.stock(sec.market, sec.code)
            if stock is None:
                market = tr.MARKET_OF_QOT.get(sec.market, str(sec.market))
                raise Refusal(f"Unknown stock {market}.{sec.code}")
            out.append(stock)
        return out

    def _depth(self, stock: Stock) -> dict:
        return self.venue.exchange.depth(stock.instrument_id)

    # --- subscriptions ---------------------------------------------------------------------

    def subscribe(self, conn: Connection, c2s: Any) -> tuple[dict, Callable[[], None]] | dict:
        if c2s.isUnsubAll:
            conn.subs.clear()
            conn.pushes.clear()
            return {}
        stocks = self._stocks(c2s.securityList)
        kinds = set(c2s.subTypeList)
        unsupported = kinds - set(SUPPORTED)
        if unsupported:
            raise Refusal(f"SubType {sorted(unsupported)} is not supported by sim-opend "
                          "(QUOTE and ORDER_BOOK are)")
        if not c2s.isSubOrUnSub:
            for stock in stocks:
                for table in (conn.subs, conn.pushes):
                    left = table.get(stock.code, set()) - kinds
                    if left:
                        table[stock.code] = left
                    else:
                        table.pop(stock.code, None)
            return {}
        if len(set(conn.subs) | {s.code for s in stocks}) > QUOTA:
            raise Refusal(f"subscription quota exceeded ({QUOTA})")
        for stock in stocks:
            conn.subs.setdefault(stock.code, set()).update(kinds)
            if c2s.isRegOrUnRegPush:
                conn.pushes.setdefault(stock.code, set()).update(kinds)
        if not (c2s.isRegOrUnRegPush and c2s.isFirstPush):
            return {}
        return {}, lambda: self._push_now(conn, stocks, kinds)

    def register_push(self, conn: Connection, c2s: Any) -> tuple[dict, Callable[[], None]] | dict:
        stocks = self._stocks(c2s.securityList)
        kinds = set(c2s.subTypeList)
        for stock in stocks:
            missing = kinds - conn.subs.get(stock.code, set())
            if missing:
                raise Refusal(f"{stock.code} is not subscribed to {sorted(missing)}")
        for stock in stocks:
            if c2s.isRegOrUnReg:
                conn.pushes.setdefault(stock.code, set()).update(kinds)
            else:
                conn.pushes[stock.code] = conn.pushes.get(stock.code, set()) - kinds
        if c2s.isRegOrUnReg and c2s.isFirstPush:
            return {}, lambda: self._push_now(conn, stocks, kinds)
        return {}

    def sub_info(self, conn: Connection, c2s: Any) -> dict:
        conns = self.server.connections if c2s.isReqAllConn else [conn]
        infos = []
        used_total = 0
        for other in conns:
            by_kind: dict[int, list[dict]] = {}
            for code, kinds in other.subs.items():
                stock = self.venue.stocks[code]
                for kind in kinds:
                    by_kind.setdefault(kind, []).append(stock.security())
            used = sum(len(v) for v in by_kind.values())
            used_total += used
            infos.append({"subInfoList": [{"subType": k, "securityList": v}
                                          for k, v in sorted(by_kind.items())],
                          "usedQuota": used, "isOwnConnData": other is conn})
        return {"connSubInfoList": infos, "totalUsedQuota": used_total,
                "remainQuota": max(QUOTA - used_total, 0)}

    def _require(self, conn: Connection, stocks: list[Stock], kind: int, name: str) -> None:
        for stock in stocks:
            if kind not in conn.subs.get(stock.code, ()):
                raise Refusal(f"{stock.code}: subscribe to {name} first")

    # --- reads ------------------------------------------------------------------------------

    def basic_quotes(self, conn: Connection, c2s: Any) -> dict:
        stocks = self._stocks(c2s.securityList)
        self._require(conn, stocks, tr.SUB_TYPE_BASIC, "QUOTE")
        return {"basicQotList": [tr.basic_quote(s, self._depth(s)) for s in stocks]}

    def order_book(self, conn: Connection, c2s: Any) -> dict:
        (stock,) = self._stocks([c2s.security])
        self._require(conn, [stock], tr.SUB_TYPE_ORDER_BOOK, "ORDER_BOOK")
        return tr.order_book(stock, self._depth(stock), max(c2s.num, 0))

    def static_info(self, conn: Connection, c2s: Any) -> dict:
        if len(c2s.securityList):
            stocks = self._stocks(c2s.securityList)
        else:
            market = tr.MARKET_OF_QOT.get(c2s.market)
            stocks = [] if c2s.secType not in (0, tr.SECURITY_TYPE_EQUITY) else [
                s for s in self.venue.stocks.values() if s.market == market]
        return {"staticInfoList": [tr.static_info(s) for s in stocks]}

    def snapshots(self, conn: Connection, c2s: Any) -> dict:
        stocks = self._stocks(c2s.securityList)
        return {"snapshotList": [tr.snapshot(s, self._depth(s)) for s in stocks]}

    def market_states(self, conn: Connection, c2s: Any) -> dict:
        stocks = self._stocks(c2s.securityList)
        return {"marketInfoList": [{"security": s.security(), "name": s.name,
                                    "marketState": self.market_state()} for s in stocks]}

    # --- pushes -----------------------------------------------------------------------------

    def _push_now(self, conn: Connection, stocks: list[Stock], kinds: set[int]) -> None:
        for stock in stocks:
            self._push_stock(stock, self._depth(stock), [(conn, kinds)])

    def push_changes(self) -> None:
        """Push every pushed code whose market moved since the last push."""
        wanted: dict[str, list[tuple[Connection, set[int]]]] = {}
        for conn in self.server.connections:
            for code, kinds in conn.pushes.items():
                if kinds:
                    wanted.setdefault(code, []).append((conn, kinds))
        for code, targets in wanted.items():
            stock = self.venue.stocks[code]
            depth = self._depth(stock)
            signature = _signature(depth)
            if self._last.get(code) == signature:
                continue
            self._last[code] = signature
            self._push_stock(stock, depth, targets)

    def _push_stock(self, stock: Stock, depth: dict,
                    targets: list[tuple[Connection, set[int]]]) -> None:
        basic = [c for c, kinds in targets if tr.SUB_TYPE_BASIC in kinds]
        book = [c for c, kinds in targets if tr.SUB_TYPE_ORDER_BOOK in kinds]
        if basic:
            self.server.push(basic, protos.QOT_UPDATE_BASIC_QOT,
                             {"basicQotList": [tr.basic_quote(stock, depth)]})
        if book:
            self.server.push(book, protos.QOT_UPDATE_ORDER_BOOK, tr.order_book(stock, depth))


def _signature(depth: dict) -> tuple:
    return tuple(depth.get(k) for k in (
        "UpdateTime", "UpdateMillisec", "LastPrice", "Volume", "BidPrice1", "BidVolume1",
        "AskPrice1", "AskVolume1", "BidVolume2", "AskVolume2"))
