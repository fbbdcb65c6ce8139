"""The stand-in API objects' common part: openctp's API surface, the thread, the answers.

Same methods, same contract as the real objects: Req* copies its struct, returns at once
(0, or -1 while disconnected, or -3 for a query faster than the front allows) and the
answer comes later on the object's own thread, as real openctp structs passed to the
registered SPI's On* methods, text in GB18030 as a front sends it. Every Req* of the API
exists (generated from the protocol catalog); those the sim exchange does not serve are
answered with CTP's ErrorID 27.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from wsbridge.adapters.ctp.parsing import to_dict, to_struct
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.ctp.front import SimFront
from wsbridge.simulators.ctp.texts import error_text
from wsbridge.simulators.exchange import Event, OrderRejected

log = logging.getLogger("wsbridge.ctp.stand-in")

API_VERSION = "wsbridge-ctp-stand-in 1 (openctp-ctp 6.7 API)"
QUERY_PREFIXES = ("ReqQry", "ReqQuery")


class SimApi:
    """What the two API objects share: the thread, the connection, the answers."""

    app = ""
    module: ModuleType

    def __init__(self, front: SimFront) -> None:
        self.front = front
        self.spi: Any = None
        self.fronts: list[str] = []
        self.connected = False
        self.released = False
        self.account: str | None = None  # "<BrokerID>:<UserID>" once logged in
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._last_query = -float("inf")
        self._query_lock = threading.Lock()

    # --- openctp's API surface -----------------------------------------------------------

    @staticmethod
    def GetApiVersion() -> str:
        return API_VERSION

    def RegisterSpi(self, spi: Any) -> None:
        self.spi = spi

    def RegisterFront(self, address: str) -> None:
        self.fronts.append(address)

    def Init(self) -> None:
        self.front.exchange(self.app)
        self.front.attach(self)
        self._thread = threading.Thread(target=self._run, name=f"ctp-sim-{self.app}",
                                        daemon=True)
        self._thread.start()
        self._later(self.front.settings.front.connect_delay, self._connect)

    def Join(self) -> int:
        if self._thread is not None:
            self._thread.join()
        return 0

    def Release(self) -> None:
        self.released = True
        self.front.detach(self)
        self._jobs.put(None)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def GetTradingDay(self) -> str:
        return self.front.exchange(self.app).trading_day

    # --- the object's own thread ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None or self.released:
                return
            try:
                job()
            except Exception:
                log.exception("stand-in %s job failed", self.app)

    def post(self, fn: Callable[..., None], *args: Any) -> None:
        self._jobs.put(lambda: fn(*args))

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        timer = threading.Timer(delay, self.post, (fn,))
        timer.daemon = True
        timer.start()

    def callback(self, name: str, *args: Any) -> None:
        """Call the SPI's On<name> (on this object's thread)."""
        if self.spi is not None and not self.released:
            getattr(self.spi, "On" + name)(*args)

    # --- connection ----------------------------------------------------------------------

    def _connect(self) -> None:
        if self.front.up and not self.released and not self.connected:
            self.connected = True
            self.callback("FrontConnected")

    def drop(self, reason: int) -> None:
        """The front went away: the session is gone with it."""
        def dropped() -> None:
            if self.connected:
                self.connected = False
                self.on_dropped()
                self.callback("FrontDisconnected", reason)
        self.post(dropped)

    def on_dropped(self) -> None:
        self.account = None

    def reconnect(self) -> None:
        self._later(self.front.settings.front.connect_delay, self._connect)

    # --- requests ------------------------------------------------------------------------

    def request(self, msg_type: str, struct: Any, request_id: int) -> int:
        """Every Req*: copy the struct now, answer later; CTP's return codes."""
        if not self.connected:
            return -1
        if msg_type.startswith(QUERY_PREFIXES):
            with self._query_lock:
                now = time.monotonic()
                if now - self._last_query < self.front.settings.front.query_interval:
                    self.front.flow_rejections += 1
                    return -3
                self._last_query = now
        values = to_dict(struct) or {}
        if "RequestID" in values:
            values["RequestID"] = request_id  # the front records the call's nRequestID
        self.post(self._serve, msg_type, values, request_id)
        return 0

    def _serve(self, msg_type: str, values: dict, request_id: int) -> None:
        if not self.connected:
            return  # the front dropped before it could answer
        try:
            rows = self.serve(msg_type, values)
        except CtpError as exc:
            self.answer(msg_type, exc.body if isinstance(exc, OrderRejected) else None,
                        request_id, exc)
            if isinstance(exc, OrderRejected):
                self.front.deliver(exc.events)
            return
        if rows is not None:
            self.answer(msg_type, rows, request_id)

    def serve(self, msg_type: str, values: dict) -> list[dict] | None:
        """The rows answering a request (None: answered otherwise); CtpError to refuse."""
        raise CtpError(errors.UNSUPPORTED_FUNCTION)

    def rsp_info(self, error: CtpError | None = None) -> Any:
        error_id = 0 if error is None else error.error_id
        if error_id == errors.NOT_SUPPORTED:
            error_id = errors.UNSUPPORTED_FUNCTION
        return fit(self.module.CThostFtdcRspInfoField,
                         {"ErrorID": error_id, "ErrorMsg": error_text(
                             error_id, "" if error is None else error.error_msg)})

    def answer(self, msg_type: str, rows: list[dict] | dict | None, request_id: int,
               error: CtpError | None = None) -> None:
        """Call On<Rsp...> once per row (once with a null body for none)."""
        spec = catalog.message(self.app, msg_type)
        assert spec is not None and spec.response is not None
        response = spec.response
        struct_cls = getattr(self.module, f"CThostFtdc{response.struct}Field")
        if isinstance(rows, dict):
            rows = [rows]
        rows = rows or [None]
        info = self.rsp_info(error)
        for i, row in enumerate(rows):
            body = None if row is None else fit(struct_cls, fields_of(response.struct,
                                                                            row))
            self.callback(response.msg_type, body, info, request_id, i == len(rows) - 1)

    def push(self, event: Event) -> None:
        """An exchange event for this object's account, as the matching Rtn/ErrRtn."""
        def send() -> None:
            if not self.connected or self.account != event.account:
                return
            spec = catalog.message(self.app, event.msg_type)
            if spec is None or spec.struct is None:
                return
            body = fit(getattr(self.module, f"CThostFtdc{spec.struct}Field"),
                             fields_of(spec.struct, event.body))
            if spec.rsp_info:
                info = event.rsp_info or {}
                error = CtpError(info.get("ErrorID", 0), info.get("ErrorMsg", ""))
                self.callback(event.msg_type, body, self.rsp_info(error))
            else:
                self.callback(event.msg_type, body)
        self.post(send)

    def on_clock(self, now: float) -> None:
        """Called by the front's clock every market bucket (under its lock)."""


def fit(cls: type, values: dict) -> Any:
    """A struct as a front fills it: text cut to the field's size, never refused."""
    return to_struct(cls, values, truncate=True)


def fields_of(struct: str, row: dict) -> dict:
    known = catalog.fields(struct)
    return {k: v for k, v in row.items() if k in known}


def generate_requests(cls: type, app: str) -> type:
    """Give ``cls`` every Req* of the app's API, each routed to :meth:`SimApi.request`."""
    for name in catalog.requests(app):
        spec = catalog.message(app, name)
        if spec is None or spec.instrument_list or hasattr(cls, name):
            continue

        def method(self: SimApi, struct: Any, request_id: int, _name: str = name) -> int:
            return self.request(_name, struct, request_id)

        method.__name__ = name
        setattr(cls, name, method)
    return cls
