"""Stand-ins for openctp's CThostFtdcTraderApi and CThostFtdcMdApi, on the sim exchange.

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
from wsbridge.simulators.exchange import Event, OrderRejected, Session, ctp

log = logging.getLogger("wsbridge.ctp.stand-in")

API_VERSION = "wsbridge-ctp-stand-in 1 (openctp-ctp 6.7 API)"
QUERY_PREFIXES = ("ReqQry", "ReqQuery")
STATEMENT_TITLE = "交易结算单(盯市) 模拟交易所 Settlement statement (marked to market)\n"
STATEMENT_BYTES = 500  # what SettlementInfo.Content holds


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
            body = None if row is None else fit(struct_cls, _fields_of(response.struct,
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
                             _fields_of(spec.struct, event.body))
            if spec.rsp_info:
                info = event.rsp_info or {}
                error = CtpError(info.get("ErrorID", 0), info.get("ErrorMsg", ""))
                self.callback(event.msg_type, body, self.rsp_info(error))
            else:
                self.callback(event.msg_type, body)
        self.post(send)

    def on_clock(self, now: float) -> None:
        """Called by the front's clock every market bucket (under its lock)."""


def statement_rows(rows: list[dict]) -> list[dict]:
    """A settlement statement as a front sends it: a Chinese title, the text cut into
    rows of 500 GB18030 bytes wherever that falls, even inside a character."""
    if not rows:
        return rows
    text = STATEMENT_TITLE + "".join(row["Content"] for row in rows)
    raw = text.encode("gb18030")
    return [{**rows[0], "SequenceNo": n, "Content": raw[i:i + STATEMENT_BYTES]}
            for n, i in enumerate(range(0, len(raw), STATEMENT_BYTES), 1)]


def fit(cls: type, values: dict) -> Any:
    """A struct as a front fills it: text cut to the field's size, never refused."""
    return to_struct(cls, values, truncate=True)


def _fields_of(struct: str, row: dict) -> dict:
    known = catalog.fields(struct)
    return {k: v for k, v in row.items() if k in known}


def _generate_requests(cls: type, app: str) -> type:
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


class SimTraderApi(SimApi):
    """A CThostFtdcTraderApi whose front is the sim exchange."""

    app = "td"

    def __init__(self, front: SimFront) -> None:
        from openctp_ctp import tdapi

        self.module = tdapi
        super().__init__(front)
        self.session: Session | None = None
        self.authenticated = False

    def SubscribePrivateTopic(self, resume_type: int) -> None:
        pass

    def SubscribePublicTopic(self, resume_type: int) -> None:
        pass

    def on_dropped(self) -> None:
        super().on_dropped()
        self.session = None
        self.authenticated = False

    def serve(self, msg_type: str, values: dict) -> list[dict] | None:
        exchange = self.front.exchange("td")
        with self.front.lock:
            if msg_type == "ReqAuthenticate":
                return [self._authenticate(values)]
            if msg_type == "ReqUserLogin":
                return [self._login(exchange, values)]
            session = self.session
            if session is None:
                raise CtpError(errors.NOT_LOGGED_IN)
            if msg_type == "ReqOrderInsert":
                self.front.deliver(exchange.insert_order(session, values))
                return None
            if msg_type == "ReqOrderAction":
                self.front.deliver(exchange.cancel_order(session, values))
                return None
            if msg_type == "ReqUserPasswordUpdate":
                exchange.update_password(session, values.get("OldPassword", ""),
                                         values.get("NewPassword", ""))
                return [values]
            rows = exchange.query(session, msg_type, values)
            if msg_type == "ReqUserLogout":
                self.session, self.account = None, None
            if msg_type == "ReqQrySettlementInfo":
                rows = statement_rows(rows)
            return rows

    def _authenticate(self, values: dict) -> dict:
        required = self.front.settings.front.auth_code
        if required is not None and values.get("AuthCode") != required:
            raise CtpError(63)
        self.authenticated = True
        return {"BrokerID": values.get("BrokerID", ""), "UserID": values.get("UserID", ""),
                "UserProductInfo": values.get("UserProductInfo", ""),
                "AppID": values.get("AppID", ""), "AppType": "1"}

    def _login(self, exchange: Any, values: dict) -> dict:
        if self.session is not None:
            raise CtpError(5)  # CTP: duplicate login on one session
        if self.front.settings.front.auth_code is not None and not self.authenticated:
            raise CtpError(64)
        session = exchange.login(values.get("BrokerID", ""), values.get("UserID", ""),
                                 values.get("Password", ""))
        self.session, self.account = session, session.account
        return session.rsp_user_login()


class SimMdApi(SimApi):
    """A CThostFtdcMdApi whose front is the sim exchange's market."""

    app = "md"

    def __init__(self, front: SimFront) -> None:
        from openctp_ctp import mdapi

        self.module = mdapi
        super().__init__(front)
        self.subscribed: dict[str, None] = {}  # insertion-ordered set
        self.quotes: dict[str, None] = {}
        self.logged_in = False

    def on_dropped(self) -> None:
        super().on_dropped()
        self.logged_in = False
        self.subscribed.clear()
        self.quotes.clear()

    def serve(self, msg_type: str, values: dict) -> list[dict] | None:
        exchange = self.front.exchange("md")
        if msg_type == "ReqUserLogin":
            self.logged_in = True
            with self.front.lock:
                day = exchange.trading_day
            clock = time.strftime("%H:%M:%S")
            return [{"TradingDay": day, "LoginTime": clock, "BrokerID": values.get("BrokerID", ""),
                     "UserID": values.get("UserID", ""), "SystemName": "wsbridge-sim",
                     "FrontID": exchange.settings.front_id, "SessionID": 1, "MaxOrderRef": "0"}]
        if msg_type == "ReqUserLogout":
            self.logged_in = False
            return [{"BrokerID": values.get("BrokerID", ""), "UserID": values.get("UserID", "")}]
        if msg_type == "ReqQryMulticastInstrument":
            return []
        raise CtpError(errors.UNSUPPORTED_FUNCTION)

    def _instruments(self, method: str, ids: list[bytes], count: int) -> int:
        if not self.connected:
            return -1
        try:
            names = [i.decode("gb18030") for i in ids[:count]]
        except (AttributeError, UnicodeDecodeError):
            return -1
        self.post(self._subscription, method, names)
        return 0

    def SubscribeMarketData(self, ids: list[bytes], count: int) -> int:
        return self._instruments("SubscribeMarketData", ids, count)

    def UnSubscribeMarketData(self, ids: list[bytes], count: int) -> int:
        return self._instruments("UnSubscribeMarketData", ids, count)

    def SubscribeForQuoteRsp(self, ids: list[bytes], count: int) -> int:
        return self._instruments("SubscribeForQuoteRsp", ids, count)

    def UnSubscribeForQuoteRsp(self, ids: list[bytes], count: int) -> int:
        return self._instruments("UnSubscribeForQuoteRsp", ids, count)

    def _subscription(self, method: str, names: list[str]) -> None:
        if not self.connected:
            return
        exchange = self.front.exchange("md")
        response = catalog.message("md", method).response
        subscribe = method.startswith("Subscribe")
        held = self.subscribed if "MarketData" in method else self.quotes
        for i, name in enumerate(names):
            with self.front.lock:
                known = name in exchange.instruments
            error = None if known or not subscribe else CtpError(errors.INSTRUMENT_NOT_FOUND)
            if subscribe and known:
                held[name] = None
            elif not subscribe:
                held.pop(name, None)
            body = fit(self.module.CThostFtdcSpecificInstrumentField,
                             {"InstrumentID": name})
            self.callback(response.msg_type, body, self.rsp_info(error), 0, i == len(names) - 1)
            if subscribe and known and held is self.subscribed:
                self._tick(name, time.time())  # CTP sends a snapshot right away

    def on_clock(self, now: float) -> None:
        if self.connected and self.subscribed:
            self.post(self._ticks, now)

    def _ticks(self, now: float) -> None:
        for name in list(self.subscribed):
            self._tick(name, now)

    def _tick(self, name: str, now: float) -> None:
        if not self.connected or name not in self.subscribed:
            return
        with self.front.lock:
            depth = self.front.exchange("md").depth(name, now)
        self.callback("RtnDepthMarketData",
                      fit(self.module.CThostFtdcDepthMarketDataField,
                                _fields_of("DepthMarketData", depth)))


_generate_requests(SimTraderApi, "td")
_generate_requests(SimMdApi, "md")
_ = ctp  # the exchange's CTP vocabulary, re-exported for users of the stand-in
