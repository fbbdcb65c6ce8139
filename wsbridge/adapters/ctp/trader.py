"""The td side: one shared CTP trading session per investor (BrokerID, UserID).

The first ws client to log in as an investor opens the session: connect, authenticate
(AppID/AuthCode), log in with that client's own UserID/Password, confirm the settlement.
Later clients logging in as the same investor share it after their password is checked
against the one that opened it. The session outlives its last client by
``session_linger`` seconds. Its pushes (RtnOrder, RtnTrade, ErrRtn*, ...) go to every
client logged in as that investor.

When the front drops, clients get FrontDisconnected (ErrorID 8); CTP reconnects by
itself, and the session authenticates, logs in and confirms again on its own before
telling clients FrontConnected.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
from dataclasses import dataclass
from typing import Any

from wsbridge.adapters.base import Reply, Sink, ThreadBridge
from wsbridge.adapters.ctp.api import SESSION_REQUESTS, Call
from wsbridge.adapters.ctp.config import CtpSettings
from wsbridge.adapters.ctp.spi import Event
from wsbridge.adapters.ctp.upstream import Pending, Upstream, rsp_error
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

# An accepted insert is answered by no Rsp*, only by this push for the new record.
ACK_BY_RTN = {
    "ReqOrderInsert": "RtnOrder",
    "ReqExecOrderInsert": "RtnExecOrder",
    "ReqQuoteInsert": "RtnQuote",
    "ReqOptionSelfCloseInsert": "RtnOptionSelfClose",
    "ReqCombActionInsert": "RtnCombAction",
}
RESUME = {"restart": 0, "resume": 1, "quick": 2}  # THOST_TERT_*
RELOGIN_RETRY = 5.0  # seconds between attempts when a re-login after reconnect fails
REQUEST_IDS_KEPT = 10_000  # upstream -> client RequestID of recent orders, for RtnOrder


def account_key(broker_id: str, user_id: str) -> str:
    return f"{broker_id}:{user_id}"


@dataclass(frozen=True, slots=True)
class Client:
    """A ws connection's hold on a shared session (its Login.state)."""

    session: TraderSession
    peer: str


class TraderSession(Upstream):
    """One investor's CTP trading session, shared by all its ws clients."""

    def __init__(self, settings: CtpSettings, bridge: ThreadBridge, sink: Sink,
                 broker_id: str, login_fields: dict) -> None:
        user_id = login_fields["UserID"]
        super().__init__("td", settings, bridge, f"{broker_id}:{user_id}")
        self.sink = sink
        self.broker_id = broker_id
        self.user_id = user_id
        self.account = account_key(broker_id, user_id)
        self._login_request = {**login_fields, "BrokerID": broker_id}
        self.password: str = login_fields.get("Password", "")
        self.login_fields: dict = {}
        self.front_id = 0
        self.session_id = 0
        self._next_ref = 0
        self.peers: set[str] = set()  # the ws connections logged in on this session
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self._relogin: asyncio.Task | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._acks: dict[tuple, Pending] = {}  # (push, FrontID, SessionID, ref) -> insert
        self._client_ids: collections.OrderedDict[int, int] = collections.OrderedDict()

    # --- opening and re-opening ----------------------------------------------------------

    def subscribe_topics(self) -> None:
        resume = RESUME[self.settings.resume]
        self.api.SubscribePrivateTopic(resume)
        self.api.SubscribePublicTopic(resume)

    async def establish(self) -> None:
        """Connect and run the login sequence; raises CtpError on failure (the caller
        then closes the session)."""
        try:
            self.open()
            await self.wait_connected(self.settings.connect_timeout)
            await self._handshake()
        except BaseException as exc:
            if not self.opened.done():
                self.opened.set_exception(exc if isinstance(exc, Exception)
                                          else CtpError(errors.REQUEST_FAILED, "cancelled"))
                self.opened.exception()  # retrieved: waiters re-raise it themselves
            raise
        self.opened.set_result(None)

    async def _handshake(self) -> None:
        """Authenticate, log in, confirm the settlement: what every (re)connect needs."""
        self._set_ready(False)
        s = self.settings
        if s.AppID:
            await self._step("ReqAuthenticate", {
                "BrokerID": self.broker_id, "UserID": self.user_id, "AppID": s.AppID,
                "AuthCode": s.AuthCode, "UserProductInfo": s.UserProductInfo})
        request = {**self._login_request, "Password": self.password}
        if s.UserProductInfo and not request.get("UserProductInfo"):
            request["UserProductInfo"] = s.UserProductInfo
        reply = await self._step("ReqUserLogin", request)
        fields = reply.rows[0] if reply.rows else {}
        self.login_fields = fields
        self.front_id = fields.get("FrontID", 0)
        self.session_id = fields.get("SessionID", 0)
        self._next_ref = max(self._next_ref, _as_int(fields.get("MaxOrderRef")))
        if s.confirm_settlement:
            await self._step("ReqSettlementInfoConfirm",
                             {"BrokerID": self.broker_id, "InvestorID": self.user_id})
        self._set_ready(True)
        self.log.info("logged in: FrontID %s SessionID %s TradingDay %s", self.front_id,
                      self.session_id, fields.get("TradingDay"))

    async def _step(self, msg_type: str, values: dict) -> Reply:
        reply = await self.send(self.table[msg_type], self.build(self.table[msg_type], values))
        if reply.error is not None:
            raise reply.error
        return reply

    def on_connected(self) -> None:
        if self._opened_ok() and self._relogin is None:
            self.log.info("front reconnected: logging in again")
            self._relogin = asyncio.ensure_future(self._reopen())

    async def _reopen(self) -> None:
        try:
            while self.connected and not self.closed:
                try:
                    await self._handshake()
                except CtpError as exc:
                    if not self.connected:
                        return  # dropped again: on_disconnected told clients
                    self.log.warning("re-login after reconnect failed: %s", exc)
                    self._status(False, f"{errors.message(errors.FRONT_NOT_ACTIVE)}: "
                                 f"re-login after reconnect failed: {exc.error_msg}")
                    await asyncio.sleep(RELOGIN_RETRY)
                    continue
                self._status(True, "CTP front reconnected: session authenticated, logged in "
                             "and settlement confirmed again")
                return
        finally:
            self._relogin = None

    def _opened_ok(self) -> bool:
        """Logged in once: from now on the session re-opens itself after disconnects."""
        return self.opened.done() and not self.opened.cancelled() and \
            self.opened.exception() is None

    def not_ready_reason(self) -> str:
        return f"the CTP session of {self.user_id} is reconnecting"

    def on_disconnected(self, reason: int, was_connected: bool) -> None:
        self._set_ready(False)
        if not self._opened_ok():
            return  # still opening: establish() reports it
        self.log.warning("front disconnected (reason 0x%x); CTP reconnects by itself", reason)
        self._status(False, f"{errors.message(errors.FRONT_NOT_ACTIVE)}: CTP front "
                     f"disconnected (reason 0x{reason:x}); reconnecting", reason)

    def _status(self, connected: bool, text: str, reason: int = 0) -> None:
        if connected:
            self.sink.on_push(self.account, "FrontConnected", None, None,
                              errors.rsp_info(errors.OK, text))
        else:
            self.sink.on_push(self.account, "FrontDisconnected", "Reason", reason,
                              errors.rsp_info(errors.FRONT_NOT_ACTIVE, text))

    # --- clients -------------------------------------------------------------------------

    def check_password(self, password: str) -> None:
        if not hmac.compare_digest(password.encode(), self.password.encode()):
            raise CtpError(errors.INVALID_LOGIN, "CTP:Invalid login: the password differs "
                           f"from the one the shared session of {self.user_id} logged in with")

    def client_fields(self) -> dict:
        """The RspUserLogin body a joining client gets: the session's, current MaxOrderRef."""
        return {**self.login_fields, "MaxOrderRef": str(self._next_ref)}

    @property
    def clients(self) -> int:
        return len(self.peers)

    def attach(self, peer: str) -> None:
        """A ws connection logged in (again: a second ReqUserLogin on it counts once)."""
        self.peers.add(peer)
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None

    def detach(self, peer: str, on_idle: Any) -> None:
        self.peers.discard(peer)
        if not self.peers and not self.closed:
            self._linger = asyncio.get_running_loop().call_later(
                self.settings.session_linger, on_idle, self)

    # --- requests ------------------------------------------------------------------------

    async def serve(self, call: Call, body: dict, client_request_id: int) -> Reply:
        """One ws client's request on this session."""
        if call.msg_type in SESSION_REQUESTS:
            return self._session_request(call)
        if not self.ready:
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           f"{errors.message(errors.FRONT_NOT_ACTIVE)}: the CTP session of "
                           f"{self.user_id} is reconnecting")
        values = self._complete(call, body)
        if call.paced:
            reply = await self.request(call, values)
            for row in reply.rows:  # ReqQryOrder: each order's RequestID as its client sent
                self._client_request_id(row)
            return reply
        struct = self.build(call, values)
        rid = self.next_request_id()
        pending = Pending(call, asyncio.get_running_loop().create_future())
        acked = call.msg_type.endswith(("Insert", "Action"))
        ack_key = None
        if call.msg_type in ACK_BY_RTN:
            ack_key = (ACK_BY_RTN[call.msg_type], self.front_id, self.session_id,
                       values[call.ref_field])
        elif call.msg_type == "ReqOrderAction":
            ack_key = _order_key(values, self.front_id, self.session_id)
        if acked:
            self._remember(rid, client_request_id)
        if ack_key is not None:
            self._acks[ack_key] = pending
        try:
            timeout = self.settings.order_ack_timeout if acked else None
            reply = await self.send(call, struct, timeout, rid, pending, silent_on_timeout=acked)
        finally:
            if ack_key is not None and self._acks.get(ack_key) is pending:
                del self._acks[ack_key]
        if call.msg_type == "ReqUserPasswordUpdate" and reply.error is None:
            self.password = values.get("NewPassword", self.password)  # re-login needs it
        for row in reply.rows:
            self._client_request_id(row)
        return reply

    def _session_request(self, call: Call) -> Reply:
        """Requests on the session itself, which the bridge owns and shares."""
        if call.msg_type == "ReqUserLogout":
            # The shared session stays up for the other clients; this client is done.
            return Reply(rows=[{"BrokerID": self.broker_id, "UserID": self.user_id}])
        raise CtpError(errors.NOT_SUPPORTED,
                       detail=f"{call.msg_type}: the bridge authenticates and logs in to the "
                       "CTP front itself; send ReqUserLogin")

    def _complete(self, call: Call, body: dict) -> dict:
        """Fill the session's identity and an insert's *Ref where the client left them empty."""
        values = dict(body)
        fields = catalog.fields(call.struct)
        for key, own in (("BrokerID", self.broker_id), ("UserID", self.user_id)):
            if key not in fields:
                continue
            given = values.get(key)
            if not given:
                values[key] = own
            elif given != own:
                raise CtpError(errors.BAD_PARAMETER,
                               detail=f"{key}: this connection is logged in as {own!r}")
        if "InvestorID" in fields and not values.get("InvestorID"):
            values["InvestorID"] = self.user_id
        ref = call.ref_field
        if ref is not None:
            if values.get(ref):
                self._next_ref = max(self._next_ref, _as_int(values[ref]))
            else:
                self._next_ref += 1
                values[ref] = str(self._next_ref)
        elif "FrontID" in fields and "SessionID" in fields:
            # An action naming an order of this session by its ref alone.
            own_ref = next((k for k in ("OrderRef", "ExecOrderRef", "QuoteRef",
                                        "OptionSelfCloseRef") if values.get(k)), None)
            if own_ref and not values.get("FrontID") and not values.get("SessionID"):
                values["FrontID"], values["SessionID"] = self.front_id, self.session_id
        return values

    # --- RequestIDs in pushes ------------------------------------------------------------

    def _remember(self, upstream_id: int, client_id: int) -> None:
        self._client_ids[upstream_id] = client_id
        if len(self._client_ids) > REQUEST_IDS_KEPT:
            self._client_ids.popitem(last=False)

    def _client_request_id(self, body: dict | None) -> None:
        """An order record carries the upstream RequestID: show the client's instead."""
        if body and "RequestID" in body and body.get("SessionID", self.session_id) == \
                self.session_id:
            client = self._client_ids.get(body["RequestID"])
            if client is not None:
                body["RequestID"] = client

    # --- callbacks -----------------------------------------------------------------------

    def on_response(self, event: Event, pending: Pending | None) -> bool:
        if pending is None and event.msg_type != "RspError":
            self.log.debug("late %s (RequestID %s)", event.msg_type, event.request_id)
        return False

    def on_push(self, event: Event) -> None:
        kind, body = event.msg_type, event.body
        if kind.startswith("ErrRtn") and body is not None:
            pending = self.pending.get(body.get("RequestID", 0))
            if pending is not None and pending.call.msg_type == "Req" + kind[6:]:
                pending.finish(Reply(rows=[dict(body)], error=rsp_error(event.rsp_info)))
        elif body is not None:
            ack = self._acks.get(_push_key(kind, body))
            if ack is None and kind == "RtnOrder":
                ack = self._acks.get(_order_key(body, 0, 0))
            if ack is not None:
                ack.finish(Reply(silent=True))
        self._client_request_id(body)
        if kind == "RtnOrder":
            self.sink.on_order(self.account, body)
        elif kind == "RtnTrade":
            self.sink.on_trade(self.account, body)
        else:
            self.sink.on_push(self.account, kind, event.body_key, body, event.rsp_info)

    async def close(self) -> None:
        if self._relogin is not None:
            self._relogin.cancel()
        if self._linger is not None:
            self._linger.cancel()
        if self.ready and self.connected:
            with contextlib.suppress(CtpError):
                call = self.table["ReqUserLogout"]
                struct = self.build(call, {"BrokerID": self.broker_id, "UserID": self.user_id})
                await self.send(call, struct, timeout=2.0)
        await super().close()

    def health(self) -> dict:
        return {"account": self.account, "connected": self.connected, "ready": self.ready,
                "clients": self.clients, "front_id": self.front_id,
                "session_id": self.session_id, "queries_sent": self.pacer.sent,
                "queries_waiting": self.pacer.waiting, "flow_control_retries": self.flow_retries,
                "disconnects": self.disconnects}


def _push_key(kind: str, body: dict) -> tuple | None:
    ref = {"RtnOrder": "OrderRef", "RtnExecOrder": "ExecOrderRef", "RtnQuote": "QuoteRef",
           "RtnOptionSelfClose": "OptionSelfCloseRef", "RtnCombAction": "CombActionRef"}.get(kind)
    if ref is None:
        return None
    return (kind, body.get("FrontID"), body.get("SessionID"), body.get(ref))


def _order_key(values: dict, front_id: int, session_id: int) -> tuple:
    """Which order a cancel names: by exchange id if given, else by front/session/ref."""
    if values.get("OrderSysID", "").strip():
        return ("order", values["OrderSysID"].strip())
    return ("RtnOrder", values.get("FrontID") or front_id,
            values.get("SessionID") or session_id, values.get("OrderRef", ""))


def _as_int(text: Any) -> int:
    try:
        return int(str(text).strip() or 0)
    except ValueError:
        return 0
