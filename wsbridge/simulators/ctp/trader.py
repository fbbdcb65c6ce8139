"""SimTraderApi: a CThostFtdcTraderApi whose front is the sim exchange."""

from __future__ import annotations

from typing import Any

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.ctp.api import SimApi, generate_requests
from wsbridge.simulators.ctp.front import SimFront
from wsbridge.simulators.exchange import Session

STATEMENT_TITLE = "交易结算单(盯市) 模拟交易所 Settlement statement (marked to market)\n"
STATEMENT_BYTES = 500  # what SettlementInfo.Content holds


class SimTraderApi(SimApi):
    """Logins, orders, cancels and queries on the sim exchange; other requests get 27."""

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



def statement_rows(rows: list[dict]) -> list[dict]:
    """A settlement statement as a front sends it: a Chinese title, the text cut into
    rows of 500 GB18030 bytes wherever that falls, even inside a character."""
    if not rows:
        return rows
    text = STATEMENT_TITLE + "".join(row["Content"] for row in rows)
    raw = text.encode("gb18030")
    return [{**rows[0], "SequenceNo": n, "Content": raw[i:i + STATEMENT_BYTES]}
            for n, i in enumerate(range(0, len(raw), STATEMENT_BYTES), 1)]



generate_requests(SimTraderApi, "td")
