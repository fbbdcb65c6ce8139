"""One CTP API object and its connection: the part the td session and the md feed share.

Callbacks arrive on CTP's own thread as :class:`~wsbridge.adapters.ctp.spi.Event` and are
moved onto the event loop through the adapter's :class:`ThreadBridge`; from there every
response is matched to its request by the upstream RequestID the bridge allocated, so
each ws client gets its own answer whatever RequestID it used.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import itertools
import logging
from typing import Any

from wsbridge.adapters.base import Reply, ThreadBridge
from wsbridge.adapters.ctp.api import Call, create_api, openctp, request_table, return_code_error
from wsbridge.adapters.ctp.config import CtpSettings
from wsbridge.adapters.ctp.pacing import QueryPacer
from wsbridge.adapters.ctp.parsing import FieldError, to_struct
from wsbridge.adapters.ctp.parsing.text import ENCODING
from wsbridge.adapters.ctp.spi import Event, spi_class
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.ctp")

FLOW_RETRIES = 5  # -2/-3 from a paced query: tries before giving up


@functools.cache
def tables(app: str) -> tuple[dict[str, Call], type]:
    """The request table and generated SPI class of an app (built once per process)."""
    module, api_cls, spi_base = openctp(app)
    return request_table(app, api_cls, module), spi_class(app, spi_base)


class Pending:
    """An upstream request waiting for its answer: rows until IsLast, or an error."""

    __slots__ = ("call", "decoder", "error", "future", "rows")

    def __init__(self, call: Call, future: asyncio.Future) -> None:
        self.call = call
        self.future = future
        self.rows: list[dict] = []
        self.error: CtpError | None = None
        self.decoder: codecs.IncrementalDecoder | None = None

    def add(self, event: Event) -> None:
        if event.body is not None:
            if event.continued is not None:
                # A character cut between two rows is completed from the next row.
                name, raw = event.continued
                if self.decoder is None:
                    self.decoder = codecs.getincrementaldecoder(ENCODING)("replace")
                event.body[name] = self.decoder.decode(raw, final=event.is_last)
            self.rows.append(event.body)
        if event.error_id and self.error is None:
            self.error = rsp_error(event.rsp_info)
        if event.is_last:
            self.finish(Reply(rows=self.rows, error=self.error))

    def finish(self, reply: Reply | BaseException) -> None:
        if self.future.done():
            return
        if isinstance(reply, BaseException):
            self.future.set_exception(reply)
        else:
            self.future.set_result(reply)


def rsp_error(rsp_info: dict | None) -> CtpError | None:
    """CTP's RspInfo as a CtpError carrying CTP's own ErrorID and text."""
    if not rsp_info or not rsp_info.get("ErrorID"):
        return None
    return CtpError(rsp_info["ErrorID"], rsp_info.get("ErrorMsg", ""))


class Upstream:
    """A CThostFtdcTraderApi / CThostFtdcMdApi (or the stand-in's) with its SPI."""

    def __init__(self, app: str, settings: CtpSettings, bridge: ThreadBridge, name: str) -> None:
        self.app = app
        self.settings = settings
        self.bridge = bridge
        self.name = name
        self.table, spi_cls = tables(app)
        self.api: Any = create_api(app, settings, name)
        self.spi = spi_cls(self._from_ctp)  # kept referenced: CTP holds only a raw pointer
        self.pending: dict[int, Pending] = {}
        self._ids = itertools.count(1)
        self.connected = False
        self._connected = asyncio.Event()
        self.closed = False
        self.pacer = QueryPacer(settings.query_interval, settings.max_queued_queries)
        self.flow_retries = 0
        self.disconnects = 0
        self.last_reason: int | None = None  # of the last OnFrontDisconnected
        self.ready = False  # connected and logged in: requests may go out
        self._ready = asyncio.Event()
        self.log = logging.LoggerAdapter(log, {"conn": f"ctp-{app}:{name}"})

    # --- readiness -----------------------------------------------------------------------

    def _set_ready(self, ready: bool) -> None:
        self.ready = ready
        if ready:
            self._ready.set()
        else:
            self._ready.clear()

    async def wait_ready(self) -> None:
        """Until logged in again after a disconnect; ErrorID 8 if that takes too long."""
        if self.ready:
            return
        try:
            await asyncio.wait_for(self._ready.wait(), self.settings.connect_timeout)
        except TimeoutError:
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           f"{errors.message(errors.FRONT_NOT_ACTIVE)}: "
                           f"{self.not_ready_reason()}") from None

    def not_ready_reason(self) -> str:
        """What wait_ready's ErrorID 8 says is wrong."""
        return f"the CTP {self.app} front is not connected"

    # --- CTP's thread ----------------------------------------------------------------------

    def _from_ctp(self, event: Event) -> None:
        self.bridge.post(self._dispatch, event)

    # --- the loop ------------------------------------------------------------------------

    def open(self) -> None:
        """Register the SPI and fronts and start the API's thread."""
        self.api.RegisterSpi(self.spi)
        for address in self.settings.front(self.app):
            self.api.RegisterFront(address)
        self.subscribe_topics()
        self.api.Init()

    def subscribe_topics(self) -> None:
        """td subscribes its private/public flows before Init; md has none."""

    def _dispatch(self, event: Event) -> None:
        if self.closed:
            return
        kind = event.msg_type
        if kind == "FrontConnected":
            self.connected = True
            self._connected.set()
            self.on_connected()
        elif kind == "FrontDisconnected":
            self.disconnects += 1
            reason = self.last_reason = event.scalars.get("Reason", 0)
            was_connected, self.connected = self.connected, False
            self._connected.clear()
            self.fail_all(CtpError(errors.FRONT_NOT_ACTIVE,
                                   f"{errors.message(errors.FRONT_NOT_ACTIVE)} "
                                   f"(front disconnected, reason 0x{reason:x})"))
            self.on_disconnected(reason, was_connected)
        elif kind == "HeartBeatWarning":
            self.log.warning("no heartbeat from the front for %ss",
                             event.scalars.get("TimeLapse"))
        elif kind.startswith("Rsp"):
            pending = self.pending.get(event.request_id)
            if not self.on_response(event, pending) and pending is not None:
                pending.add(event)
        else:
            self.on_push(event)

    def on_connected(self) -> None:
        """The front connection is up (first time or after a disconnect)."""

    def on_disconnected(self, reason: int, was_connected: bool) -> None:
        """The front connection dropped; CTP reconnects by itself."""

    def on_response(self, event: Event, pending: Pending | None) -> bool:
        """A Rsp* callback; return True when handled here instead of by ``pending``."""
        if pending is None:
            self.log.debug("unclaimed %s (RequestID %s)", event.msg_type, event.request_id)
        return False

    def on_push(self, event: Event) -> None:
        """An Rtn*/ErrRtn* callback."""

    def fail_all(self, error: CtpError) -> None:
        for pending in list(self.pending.values()):
            pending.finish(error)

    async def wait_connected(self, timeout: float) -> None:
        """Return once the front is connected; ErrorID 8 after ``timeout`` seconds."""
        if self.connected:
            return
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            fronts = ", ".join(self.settings.front(self.app))
            why = "" if self.last_reason is None else \
                f" (it hung up during the handshake: reason 0x{self.last_reason:x})"
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           f"{errors.message(errors.FRONT_NOT_ACTIVE)}: no connection to the "
                           f"CTP {self.app} front {fronts} within {timeout:g}s{why}") from None

    def build(self, call: Call, values: dict) -> Any:
        """The openctp struct of a request; a value that does not fit is ErrorID -400."""
        try:
            return to_struct(call.struct_cls, values)
        except FieldError as exc:
            raise CtpError(errors.BAD_PARAMETER, detail=str(exc)) from None

    def next_request_id(self) -> int:
        return next(self._ids)

    async def request(self, call: Call, values: dict, timeout: float | None = None) -> Reply:
        """Send one request and return its answer (queries wait their turn)."""
        struct = self.build(call, values)
        if call.paced:
            return await self.pacer.run(lambda: self.send(call, struct, timeout))
        return await self.send(call, struct, timeout)

    async def send(self, call: Call, struct: Any, timeout: float | None = None,
                   request_id: int | None = None, pending: Pending | None = None,
                   silent_on_timeout: bool = False) -> Reply:
        """Call the API method now and await the answer.

        ``silent_on_timeout``: no answer in time means accepted (an order CTP answers only
        with pushes), not failed.
        """
        if not self.connected or self.closed:
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           f"{errors.message(errors.FRONT_NOT_ACTIVE)}: the CTP {self.app} "
                           "front is not connected")
        rid = self.next_request_id() if request_id is None else request_id
        if pending is None:
            pending = Pending(call, asyncio.get_running_loop().create_future())
        self.pending[rid] = pending
        try:
            await self._call(call, struct, rid)
            return await asyncio.wait_for(asyncio.shield(pending.future),
                                          timeout or self.settings.request_timeout)
        except TimeoutError:
            if silent_on_timeout:
                return Reply(silent=True)
            raise CtpError(errors.REQUEST_FAILED,
                           f"{errors.message(errors.REQUEST_FAILED)}: no answer to "
                           f"{call.msg_type} from the CTP front within "
                           f"{timeout or self.settings.request_timeout:g}s") from None
        finally:
            self.pending.pop(rid, None)

    async def _call(self, call: Call, struct: Any, rid: int) -> None:
        method = getattr(self.api, call.msg_type)
        for attempt in range(FLOW_RETRIES):
            code = method(struct, rid)
            if call.paced:
                self.pacer.mark()
            if code == 0:
                return
            if not (call.paced and code in (-2, -3)) or attempt == FLOW_RETRIES - 1:
                raise return_code_error(code)
            # The pacer should have prevented this (another program on the same session?).
            self.flow_retries += 1
            self.log.warning("%s refused with %s by CTP's flow control; retrying in turn",
                             call.msg_type, code)
            await self.pacer.wait_turn()

    async def close(self) -> None:
        """Release the API (CTP's Release blocks: it runs off the loop). Never raises."""
        if self.closed:
            return
        self.closed = True
        self.fail_all(CtpError(errors.FRONT_NOT_ACTIVE, "CTP session closed"))
        try:
            await asyncio.to_thread(self.api.Release)
        except Exception:
            self.log.exception("Release failed")
