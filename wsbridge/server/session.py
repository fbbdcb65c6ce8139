"""One websocket client: its login, its requests, its subscriptions, its outbox.

A session turns frames into validated requests (:mod:`wsbridge.protocol.messages`),
enforces login and per-connection limits, hands requests to the adapter and queues the
answers. It never lets an exception escape into the connection: anything unexpected
becomes an ErrorID -1 response and a log line.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

from wsbridge.adapters.base import Login, Reply
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.protocol.messages import (
    ProtocolError,
    Request,
    decode_request,
    encode,
    error_reply,
    reply_spec,
    response,
)
from wsbridge.server.frames import text_frame

if TYPE_CHECKING:
    from wsbridge.config import Limits
    from wsbridge.server.app import Server
    from wsbridge.server.outbox import Outbox

log = logging.getLogger("wsbridge.session")
_ids = itertools.count(1)

SUBSCRIBE = {"SubscribeMarketData": "RspSubMarketData",
             "UnSubscribeMarketData": "RspUnSubMarketData"}


class TokenBucket:
    """Requests per second with a burst allowance."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Session:
    """A connected client."""

    def __init__(self, server: Server, outbox: Outbox, peer: str) -> None:
        self.server = server
        self.app = server.config.app_type
        self.limits: Limits = server.config.limits
        self.outbox = outbox
        self.peer = peer
        self.id = f"c{next(_ids)}"
        self.login: Login | None = None
        self.subscriptions: set[str] = set()
        self.closed = False
        self._login_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._bucket = TokenBucket(self.limits.requests_per_second, self.limits.request_burst)
        self.log = logging.LoggerAdapter(log, {"conn": self.id})

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.peer}>"

    # --- inbound -------------------------------------------------------------------------

    def on_frame(self, raw: str | bytes) -> None:
        """One frame from the client: answer it or start serving it. Never raises."""
        metrics = self.server.metrics
        try:
            req = decode_request(raw, self.app, self.limits.max_message_bytes)
        except ProtocolError as exc:
            metrics.messages_in.labels("invalid").inc()
            metrics.errors.labels(str(exc.error_id)).inc()
            self.log.info("rejected frame: %s", exc)
            self.send(exc.reply())
            return
        metrics.messages_in.labels(req.msg_type).inc()
        if not self._bucket.take():
            self._fail(req, CtpError(errors.TOO_MANY_PER_SECOND,
                                     detail=f"limit {self.limits.requests_per_second:g}/s"))
            return
        if len(self._tasks) >= self.limits.max_outstanding:
            self._fail(req, CtpError(errors.TOO_MANY_OUTSTANDING,
                                     detail=f"limit {self.limits.max_outstanding}"))
            return
        task = asyncio.get_running_loop().create_task(self._serve(req))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, req: Request) -> None:
        started = time.perf_counter()
        try:
            if not self.server.hub.upstream_connected:
                # Answer at once while the back end is away, rather than let it hang.
                raise CtpError(errors.FRONT_NOT_ACTIVE,
                               detail="the back end is disconnected; reconnecting")
            if req.msg_type == "ReqUserLogin":
                await self._login(req)
            elif not await self._logged_in():
                self._fail(req, CtpError(errors.NOT_LOGGED_IN_BRIDGE,
                                         detail="send ReqUserLogin first"))
            elif req.msg_type in SUBSCRIBE and self.app == "md":
                await self._subscription(req)
            else:
                await self._request(req)
        except CtpError as exc:
            self._fail(req, exc)
        except TimeoutError:
            self._fail(req, CtpError(errors.REQUEST_FAILED, detail=(
                f"no answer from the back end within {self.server.request_timeout:g}s")))
        except Exception as exc:
            self.log.exception("%s failed", req.msg_type)
            self._fail(req, CtpError(errors.REQUEST_FAILED, f"request failed: {exc}"))
        finally:
            self.server.metrics.latency.labels(req.msg_type).observe(
                time.perf_counter() - started)

    async def _logged_in(self) -> bool:
        if self.login is None and self._login_task is not None:
            # A client may pipeline requests behind its login: let them wait for it.
            await asyncio.wait([self._login_task])
        return self.login is not None

    async def _login(self, req: Request) -> None:
        adapter = self.server.adapter
        user = req.body.get("UserID", "")
        if self.login is not None and self.login.user_id != user:
            raise CtpError(errors.BAD_PARAMETER,
                           detail=f"already logged in as {self.login.user_id!r}; "
                           "open another connection for another user")
        task = asyncio.ensure_future(adapter.login(req.body, self.peer))
        self._login_task = task
        login = await asyncio.wait_for(task, self.server.request_timeout)
        if self.closed:
            await adapter.logout(login)
            return
        if self.login is None:
            self.login = login
            self.server.hub.logged_in(self, login.account)
        self.log.info("logged in as %s", login.user_id)
        self.send(response("RspUserLogin", "RspUserLogin", login.fields,
                           errors.rsp_info(errors.OK), req.request_id))

    async def _request(self, req: Request) -> None:
        adapter = self.server.adapter
        if not adapter.supports(req.msg_type):
            raise CtpError(errors.NOT_SUPPORTED,
                           detail=f"{req.msg_type} is not supported by the "
                           f"{adapter.name} back end")
        reply: Reply = await asyncio.wait_for(adapter.request(self.login, req),
                                              self.server.request_timeout)
        if reply.silent and reply.error is None:
            return
        spec = reply_spec(self.app, req.msg_type)
        info = reply.error.rsp_info() if reply.error is not None else errors.rsp_info()
        if reply.error is not None:
            self.server.metrics.errors.labels(str(reply.error.error_id)).inc()
        rows = reply.rows or [None]
        last = len(rows) - 1
        for i, row in enumerate(rows):
            self.send(response(spec.msg_type, spec.body, row, info, req.request_id, i == last))

    async def _subscription(self, req: Request) -> None:
        hub = self.server.hub
        rsp_type = SUBSCRIBE[req.msg_type]
        ids = list(req.instrument_ids)
        if req.msg_type == "SubscribeMarketData":
            outcome = await hub.subscribe(self, ids)
        else:
            await hub.unsubscribe(self, ids)
            outcome = [None] * len(ids)
        last = len(ids) - 1
        for i, (instrument, error) in enumerate(zip(ids, outcome, strict=True)):
            info = error.rsp_info() if error is not None else errors.rsp_info()
            if error is not None:
                self.server.metrics.errors.labels(str(error.error_id)).inc()
            self.send(response(rsp_type, "SpecificInstrument", {"InstrumentID": instrument},
                               info, req.request_id, i == last))
        if req.msg_type == "SubscribeMarketData":
            for instrument in dict.fromkeys(ids):  # the latest tick at once, not next tick
                frame = hub.last_tick.get(instrument)
                if frame is not None and instrument in self.subscriptions:
                    self.outbox.send_quote(instrument, frame)

    # --- outbound ------------------------------------------------------------------------

    def send(self, msg: dict[str, Any]) -> None:
        self.outbox.send(text_frame(encode(msg)))
        self.server.metrics.pushed(msg["MsgType"])

    def _fail(self, req: Request, exc: CtpError) -> None:
        self.server.metrics.errors.labels(str(exc.error_id)).inc()
        if req.msg_type in SUBSCRIBE and self.app == "md":
            rsp_type, body_key, body = SUBSCRIBE[req.msg_type], "SpecificInstrument", None
        else:
            spec = reply_spec(self.app, req.msg_type)
            rsp_type, body_key, body = spec.msg_type, spec.body, None
        msg = error_reply(rsp_type, body_key, exc.error_id, exc.error_msg, req.request_id,
                          exc.detail)
        msg[body_key] = body
        self.send(msg)

    # --- end -----------------------------------------------------------------------------

    def in_flight(self) -> set[asyncio.Task]:
        return set(self._tasks)

    async def closed_by_peer(self) -> None:
        """The connection is gone: release what it held."""
        self.closed = True
        self.outbox.close()
        await self.server.hub.remove(self)
        if self.login is not None:
            try:
                await self.server.adapter.logout(self.login)
            except Exception:
                self.log.exception("logout failed")
