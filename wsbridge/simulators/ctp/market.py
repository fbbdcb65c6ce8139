"""SimMdApi: a CThostFtdcMdApi whose front is the sim exchange's market."""

from __future__ import annotations

import time

from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.ctp.api import SimApi, fields_of, fit, generate_requests
from wsbridge.simulators.ctp.front import SimFront


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
                                fields_of("DepthMarketData", depth)))




generate_requests(SimMdApi, "md")
