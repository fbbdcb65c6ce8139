"""sim-tws's socket side: API clients, request dispatch, streaming ticks and updates.

Each connection is one API client (unique client id, as in TWS). Order states and
executions go to the client that placed the order; positions, account values and
summaries to the clients subscribed to them; ticks to each market data request. A pulse
every tick interval runs the exchange forward and streams what changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from wsbridge.simulators.tws import protocol, responses
from wsbridge.simulators.tws import requests as rq
from wsbridge.simulators.tws.broker import Broker, TwsError, Updates
from wsbridge.simulators.tws.clients import ApiClient, Watch
from wsbridge.simulators.tws.contracts import ContractDef
from wsbridge.simulators.tws.protocol import In, ProtocolViolation

log = logging.getLogger("wsbridge.sim_tws")

FARM_NOTICES = ((2104, "Market data farm connection is OK:simfarm"),
                (2106, "HMDS data farm connection is OK:simhmds"),
                (2158, "Sec-def data farm connection is OK:simsecdef"))


class TwsServer:
    """The TWS API endpoint over a :class:`Broker`."""

    def __init__(self, broker: Broker, tick_interval: float = 0.5,
                 account_interval: float = 3.0, clock: Callable[[], float] = time.time) -> None:
        self.broker = broker
        self.tick_interval = tick_interval
        self.account_interval = account_interval
        self._clock = clock
        self.clients: dict[int, ApiClient] = {}
        self._connections: set[ApiClient] = set()
        self._server: asyncio.AbstractServer | None = None
        self._pulse: asyncio.Task | None = None
        self._last_account = 0.0
        self._notified: dict[int, str] = {}  # permId -> last status sent
        self.link_up = True  # TWS's own link to "IB's servers" (see toggle_link)

    # --- life cycle ----------------------------------------------------------------------

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, host, port)
        self._pulse = asyncio.ensure_future(self._run_pulse())
        sock = self._server.sockets[0].getsockname()
        return sock[0], sock[1]

    async def close(self) -> None:
        if self._pulse is not None:
            self._pulse.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pulse
        if self._server is not None:
            self._server.close()
        for client in list(self._connections):
            client.writer.close()
        if self._server is not None:
            await self._server.wait_closed()

    def toggle_link(self) -> None:
        """Lose or regain the link to IB's servers, as TWS reports it (1100, then 1101).

        While it is down the market stands still; once back, market data subscriptions
        are gone (1101: "data lost") and clients must request them again.
        """
        self.link_up = not self.link_up
        if self.link_up:
            code, text = 1101, ("Connectivity between IB and Trader Workstation has been "
                                "restored - data lost.")
        else:
            code, text = 1100, "Connectivity between IB and Trader Workstation has been lost."
        log.info("IB link %s", "restored" if self.link_up else "lost")
        for client in self.clients.values():
            if self.link_up:
                client.watches.clear()
            client.error(-1, code, text)
        self._flush()

    # --- connections ---------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = ApiClient(writer)
        self._connections.add(client)
        deframer = protocol.Deframer()
        try:
            while data := await reader.read(65536):
                for fields in deframer.feed(data):
                    if not self._handle(client, fields):
                        return
                self._flush()
                await writer.drain()
        except ProtocolViolation as exc:
            log.warning("dropping %s: %s", client.peer, exc)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            client.flush()
            self._connections.discard(client)
            if client.client_id is not None and self.clients.get(client.client_id) is client:
                del self.clients[client.client_id]
                log.info("client %s disconnected", client.client_id)
            writer.close()

    def _handle(self, client: ApiClient, fields: list[str]) -> bool:
        """One message; False closes the connection."""
        if not client.version:
            low, high, _ = protocol.parse_version_range(fields[0] if fields else "")
            client.version = protocol.negotiate(low, high)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d %H:%M:%S UTC")
            client.send([client.version, stamp])
            return True
        req = rq.decode(fields)
        if client.client_id is None and req.msg_id != In.START_API:
            raise ProtocolViolation(f"request {req.msg_id} before startApi")
        try:
            return self._dispatch(client, req)
        except TwsError as exc:
            client.error(exc.req_id, exc.code, exc.text)
        except ProtocolViolation:
            raise
        except Exception:  # a simulator bug must not take the other clients down
            log.exception("request %s failed", fields[:3])
            client.error(req.req_id, 10000, "sim-tws internal error (see its log)")
        return True

    # --- requests ------------------------------------------------------------------------

    def _dispatch(self, client: ApiClient, req: rq.Request) -> bool:
        handler = _HANDLERS.get(req.msg_id)
        if handler is None:
            client.error(req.req_id, 321, "Error validating request:-'msg' : cause - sim-tws "
                                          f"does not simulate request type {req.msg_id}")
            return True
        return handler(self, client, req) is not False

    def _start_api(self, client: ApiClient, req: rq.StartApi) -> bool:
        if req.client_id in self.clients:
            client.error(-1, 326, "Unable to connect as the client id is already in use. "
                                  "Retry with a unique client id.")
            return False
        client.client_id = req.client_id
        self.clients[req.client_id] = client
        log.info("client %s connected from %s", req.client_id, client.peer)
        client.send(responses.managed_accounts([self.broker.account]))
        client.send(responses.next_valid_id(self.broker.next_order_id(req.client_id)))
        for code, text in FARM_NOTICES:
            client.error(-1, code, text)
        return True

    def _contract(self, req_id: int, query: rq.ContractQuery) -> ContractDef:
        found = self.broker.master.find(query)
        if not found:
            raise TwsError(req_id, 200, "No security definition has been found for the "
                                        "request")
        if len(found) > 1:
            raise TwsError(req_id, 200, "The contract description specified is ambiguous")
        return found[0]

    def _mkt_data(self, client: ApiClient, req: rq.MktData) -> None:
        contract = self._contract(req.req_id, req.contract)
        client.send(responses.market_data_type(req.req_id, client.data_type))
        client.send(responses.tick_req_params(req.req_id, contract.min_tick))
        watch = Watch(contract)
        client.send_ticks(req.req_id, watch, self.broker.depth(contract))
        if req.snapshot:
            client.send(responses.tick_snapshot_end(req.req_id))
        else:
            client.watches[req.req_id] = watch

    def _cancel_mkt_data(self, client: ApiClient, req: rq.Request) -> None:
        client.watches.pop(req.req_id, None)

    def _contract_details(self, client: ApiClient, req: rq.ContractDetails) -> None:
        found = self.broker.master.find(req.contract)
        if not found:
            raise TwsError(req.req_id, 200, "No security definition has been found for the "
                                            "request")
        asked = req.contract.exchange.upper()
        for contract in found:
            routing = asked if asked in contract.valid_exchanges else ""
            client.send(responses.contract_details(req.req_id, contract, routing))
        client.send(responses.contract_details_end(req.req_id))

    def _place_order(self, client: ApiClient, req: rq.PlaceOrder) -> None:
        self.publish(self.broker.place(client.client_id, req))

    def _cancel_order(self, client: ApiClient, req: rq.CancelOrder) -> None:
        self.publish(self.broker.cancel(client.client_id, req.req_id))

    def _global_cancel(self, client: ApiClient, req: rq.Request) -> None:
        self.publish(self.broker.cancel_all())

    def _open_orders(self, client: ApiClient, req: rq.Request) -> None:
        mine = None if req.msg_id == In.REQ_ALL_OPEN_ORDERS or client.client_id == 0 \
            else client.client_id
        for order in self.broker.open_orders(mine):
            client.send(responses.open_order(order))
            client.send(responses.order_status(order))
        client.send(responses.open_order_end())

    def _completed_orders(self, client: ApiClient, req: rq.Simple) -> None:
        for order in self.broker.completed_orders():
            client.send(responses.completed_order(order))
        client.send(responses.completed_orders_end())

    def _executions(self, client: ApiClient, req: rq.Executions) -> None:
        for e in self.broker.executions(req):
            client.send(responses.exec_details(req.req_id, e))
            client.send(responses.commission_report(e))
        client.send(responses.exec_details_end(req.req_id))

    def _account_updates(self, client: ApiClient, req: rq.AccountUpdates) -> None:
        client.account_updates = req.subscribe and req.account in ("", self.broker.account)
        if client.account_updates:
            client.sent_values.clear()
            client.sent_portfolio.clear()
            client.send_account(self.broker.account, self.broker.account_values(),
                               self.broker.holdings(include_flat=True))
            client.send(responses.account_download_end(self.broker.account))

    def _account_multi(self, client: ApiClient, req: rq.AccountUpdatesMulti) -> None:
        if req.account in ("", self.broker.account):
            client.account_multi.add(req.req_id)
            client.send_multi(self.broker.account, req.req_id, self.broker.account_values())
        client.send(responses.account_update_multi_end(req.req_id))

    def _cancel_multi(self, client: ApiClient, req: rq.Request) -> None:
        client.account_multi.discard(req.req_id)

    def _account_summary(self, client: ApiClient, req: rq.AccountSummary) -> None:
        client.summaries[req.req_id] = {t for t in req.tags.split(",") if t}
        client.send_summary(self.broker.account, self.broker.base, req.req_id,
                            self.broker.account_values())
        client.send(responses.account_summary_end(req.req_id))

    def _cancel_summary(self, client: ApiClient, req: rq.Request) -> None:
        client.summaries.pop(req.req_id, None)

    def _positions(self, client: ApiClient, req: rq.Request) -> None:
        client.positions = True
        client.sent_positions.clear()
        client.send_positions(self.broker.account, self.broker.holdings())
        client.send(responses.position_end())

    def _cancel_positions(self, client: ApiClient, req: rq.Request) -> None:
        client.positions = False

    def _ids(self, client: ApiClient, req: rq.Simple) -> None:
        client.send(responses.next_valid_id(self.broker.next_order_id(client.client_id)))

    def _data_type(self, client: ApiClient, req: rq.Simple) -> None:
        client.data_type = req.value if req.value in (1, 2, 3, 4) else 1

    def _current_time(self, client: ApiClient, req: rq.Request) -> None:
        client.send(responses.current_time(int(self._clock())))

    def _managed(self, client: ApiClient, req: rq.Request) -> None:
        client.send(responses.managed_accounts([self.broker.account]))

    def _ignore(self, client: ApiClient, req: rq.Request) -> None:
        """Accepted and nothing to answer (reqAutoOpenOrders)."""

    # --- streaming -----------------------------------------------------------------------

    def publish(self, updates: Updates) -> None:
        """Order states and executions to their owners; account views to subscribers."""
        for order in updates.orders:
            client = self.clients.get(order.client_id)
            fills = [e for e in updates.executions if e.order is order]
            previous = self._notified.get(order.perm_id)
            self._notified[order.perm_id] = order.status
            if client is None:
                continue
            client.send(responses.open_order(order))
            client.send(responses.order_status(order))
            for e in fills:
                client.send(responses.exec_details(-1, e))
            if order.status == "Cancelled" and previous != "Cancelled":
                client.error(order.order_id, 202, "Order Canceled - reason:")
            for e in fills:
                client.send(responses.commission_report(e))
        if updates.executions:
            self._refresh_accounts()

    def _stream(self) -> None:
        for client in list(self.clients.values()):
            for req_id, watch in list(client.watches.items()):
                client.send_ticks(req_id, watch, self.broker.depth(watch.contract))

    def _refresh_accounts(self) -> None:
        watchers = [c for c in self.clients.values()
                    if c.account_updates or c.account_multi or c.positions or c.summaries]
        if not watchers:
            return
        values = self.broker.account_values()
        holdings = self.broker.holdings(include_flat=True)
        for client in watchers:
            if client.account_updates:
                client.send_account(self.broker.account, values, holdings)
            for req_id in client.account_multi:
                client.send_multi(self.broker.account, req_id, values)
            for req_id in client.summaries:
                client.send_summary(self.broker.account, self.broker.base, req_id, values)
            if client.positions:
                client.send_positions(self.broker.account, holdings)

    async def _run_pulse(self) -> None:
        while True:
            await asyncio.sleep(self.tick_interval)
            if not self.link_up:
                continue
            try:
                self.publish(self.broker.advance())
                self._stream()
                now = self._clock()
                if now - self._last_account >= self.account_interval:
                    self._last_account = now
                    self._refresh_accounts()
            except Exception:
                log.exception("pulse failed")
            self._flush()

    def _flush(self) -> None:
        for client in list(self._connections):
            client.flush()


_HANDLERS: dict[int, Callable[[TwsServer, ApiClient, Any], Any]] = {
    In.START_API: TwsServer._start_api,
    In.REQ_MKT_DATA: TwsServer._mkt_data,
    In.CANCEL_MKT_DATA: TwsServer._cancel_mkt_data,
    In.REQ_CONTRACT_DATA: TwsServer._contract_details,
    In.PLACE_ORDER: TwsServer._place_order,
    In.CANCEL_ORDER: TwsServer._cancel_order,
    In.REQ_GLOBAL_CANCEL: TwsServer._global_cancel,
    In.REQ_OPEN_ORDERS: TwsServer._open_orders,
    In.REQ_ALL_OPEN_ORDERS: TwsServer._open_orders,
    In.REQ_AUTO_OPEN_ORDERS: TwsServer._ignore,
    In.REQ_COMPLETED_ORDERS: TwsServer._completed_orders,
    In.REQ_EXECUTIONS: TwsServer._executions,
    In.REQ_ACCT_DATA: TwsServer._account_updates,
    In.REQ_ACCOUNT_UPDATES_MULTI: TwsServer._account_multi,
    In.CANCEL_ACCOUNT_UPDATES_MULTI: TwsServer._cancel_multi,
    In.REQ_ACCOUNT_SUMMARY: TwsServer._account_summary,
    In.CANCEL_ACCOUNT_SUMMARY: TwsServer._cancel_summary,
    In.REQ_POSITIONS: TwsServer._positions,
    In.CANCEL_POSITIONS: TwsServer._cancel_positions,
    In.REQ_IDS: TwsServer._ids,
    In.REQ_MARKET_DATA_TYPE: TwsServer._data_type,
    In.REQ_CURRENT_TIME: TwsServer._current_time,
    In.REQ_MANAGED_ACCTS: TwsServer._managed,
}
