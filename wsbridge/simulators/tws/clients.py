"""One connected API client: its subscriptions, what it was last sent, its send buffer.

Feeds send only what changed since the last message of that kind (ticks per request,
account values, portfolio items, positions), as TWS does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wsbridge.simulators.tws import protocol, responses
from wsbridge.simulators.tws.contracts import ContractDef

log = logging.getLogger("wsbridge.sim_tws")

# Live tick ids and their delayed twins (reqMarketDataType 3 / 4).
_DELAYED = {1: 66, 2: 67, 4: 68, 6: 72, 7: 73, 9: 75, 14: 76, 8: 74}
MAX_BUFFERED = 16 * 1024 * 1024  # a client this far behind is disconnected


@dataclass(slots=True)
class Watch:
    """One market data request: what was last sent, to send only changes."""

    contract: ContractDef
    sent: dict[int, tuple] = field(default_factory=dict)
    volume: float = 0.0


class ApiClient:
    """One connected API client."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.peer = writer.get_extra_info("peername")
        self.version = 0
        self.client_id: int | None = None
        self.data_type = 1
        self.watches: dict[int, Watch] = {}
        self.account_updates = False
        self.account_multi: set[int] = set()
        self.positions = False
        self.summaries: dict[int, set[str]] = {}
        self.sent_values: dict[tuple[str, str], Any] = {}
        self.sent_multi: dict[tuple[int, str, str], Any] = {}
        self.sent_summary: dict[tuple[int, str], Any] = {}
        self.sent_portfolio: dict[int, tuple] = {}
        self.sent_positions: dict[int, tuple] = {}
        self._out: list[bytes] = []

    def send(self, fields: list[Any]) -> None:
        """Queue one message; :meth:`flush` writes a burst as one packet, as TWS does."""
        self._out.append(protocol.frame(fields))

    def flush(self) -> None:
        out, self._out = self._out, []
        if not out or self.writer.is_closing():
            return
        self.writer.write(b"".join(out))
        if self.writer.transport.get_write_buffer_size() > MAX_BUFFERED:
            log.warning("client %s is not reading; disconnecting it", self.client_id)
            self.writer.transport.abort()

    def error(self, req_id: int, code: int, text: str) -> None:
        self.send(responses.error(req_id, code, text))

    def send_ticks(self, req_id: int, watch: Watch, depth: dict) -> None:
        """The ticks of a DepthMarketData that changed since the last ones sent."""
        volume = float(depth["Volume"])
        last_size = volume - watch.volume if watch.volume and volume > watch.volume else None
        watch.volume = volume
        prices = {1: (depth["BidPrice1"], depth["BidVolume1"]),
                  2: (depth["AskPrice1"], depth["AskVolume1"]),
                  4: (depth["LastPrice"], last_size), 6: (depth["HighestPrice"], None),
                  7: (depth["LowestPrice"], None), 9: (depth["PreClosePrice"], None),
                  14: (depth["OpenPrice"], None)}
        delayed = self.data_type in (3, 4)
        for tick, (price, size) in prices.items():
            if not price or watch.sent.get(tick) == (price, size):
                continue
            watch.sent[tick] = (price, size)
            self.send(responses.tick_price(req_id, _DELAYED[tick] if delayed else tick,
                                           price, size))
        if watch.sent.get(8) != (volume,):
            watch.sent[8] = (volume,)
            self.send(responses.tick_size(req_id, 74 if delayed else 8, volume))

    def send_account(self, account: str, values: list, holdings: list) -> None:
        """Changed account values and portfolio items (reqAccountUpdates)."""
        for tag, value, currency in values:
            if self.sent_values.get((tag, currency)) != value:
                self.sent_values[(tag, currency)] = value
                self.send(responses.account_value(tag, value, currency, account))
        for h in holdings:
            state = (h.size, h.market_price, h.avg_cost, h.realized)
            if self.sent_portfolio.get(h.contract.con_id) == state or (
                    not h.size and h.contract.con_id not in self.sent_portfolio):
                continue
            self.sent_portfolio[h.contract.con_id] = state
            self.send(responses.portfolio_value(h.contract, h.size, h.market_price,
                                                h.market_value, h.avg_cost, h.unrealized,
                                                h.realized, account))
        self.send(responses.account_time(datetime.now().strftime("%H:%M")))

    def send_multi(self, account: str, req_id: int, values: list) -> None:
        """Changed account values for one reqAccountUpdatesMulti."""
        for tag, value, currency in values:
            if self.sent_multi.get((req_id, tag, currency)) != value:
                self.sent_multi[(req_id, tag, currency)] = value
                self.send(responses.account_update_multi(req_id, account, tag, value,
                                                         currency))

    def send_summary(self, account: str, base: str, req_id: int, values: list) -> None:
        """Changed base-currency values among one reqAccountSummary's tags."""
        tags = self.summaries.get(req_id, set())
        for tag, value, currency in values:
            if currency in (base, "") and (tag in tags or "All" in tags) \
                    and self.sent_summary.get((req_id, tag)) != value:
                self.sent_summary[(req_id, tag)] = value
                self.send(responses.account_summary(req_id, account, tag, value, currency))

    def send_positions(self, account: str, holdings: list) -> None:
        """Changed net positions (reqPositions); a closed one is sent once as 0."""
        for h in holdings:
            state = (h.size, h.avg_cost)
            if self.sent_positions.get(h.contract.con_id) == state or (
                    not h.size and h.contract.con_id not in self.sent_positions):
                continue
            self.sent_positions[h.contract.con_id] = state
            self.send(responses.position(account, h.contract, h.size, h.avg_cost))
