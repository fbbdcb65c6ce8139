"""The one error table every back end answers with.

Bridge codes are webctp's (negative); CTP codes follow CTP's error.xml numbering and are
used by every back end for the same situation, whatever its native error was.
"""

from __future__ import annotations

# Bridge codes (webctp's numbering).
OK = 0
REQUEST_FAILED = -1
TOO_MANY_OUTSTANDING = -2
TOO_MANY_PER_SECOND = -3
BAD_PARAMETER = -400
NOT_LOGGED_IN_BRIDGE = -401
NOT_SUPPORTED = -404

# CTP codes (error.xml numbering).
INVALID_LOGIN = 3
NOT_LOGGED_IN = 6
FRONT_NOT_ACTIVE = 8
BAD_ORDER_FIELD = 15
INSTRUMENT_NOT_FOUND = 16
INSTRUMENT_NOT_TRADING = 17
DUPLICATE_ORDER_REF = 22
ORDER_NOT_FOUND = 25
ORDER_NOT_CANCELABLE = 26
UNSUPPORTED_FUNCTION = 27
CLOSE_EXCEEDS_POSITION = 30
INSUFFICIENT_MONEY = 31
SETTLEMENT_NOT_CONFIRMED = 42
CLOSE_TODAY_EXCEEDS = 50
CLOSE_YESTERDAY_EXCEEDS = 51
# CTP codes outside DESIGN.md's short list that back ends need.
OLD_PASSWORD_MISMATCH = 14
BAD_ORDER_ACTION_FIELD = 23

MESSAGES: dict[int, str] = {
    OK: "CTP:No Error",
    REQUEST_FAILED: "request failed",
    TOO_MANY_OUTSTANDING: "too many outstanding requests",
    TOO_MANY_PER_SECOND: "too many requests per second",
    BAD_PARAMETER: "bad parameter",
    NOT_LOGGED_IN_BRIDGE: "not logged in",
    NOT_SUPPORTED: "not supported",
    INVALID_LOGIN: "CTP:Invalid login: wrong user ID or password",
    NOT_LOGGED_IN: "CTP:Not logged in",
    FRONT_NOT_ACTIVE: "CTP:Front not active: upstream disconnected",
    OLD_PASSWORD_MISMATCH: "CTP:Old password mismatch",
    BAD_ORDER_FIELD: "CTP:Bad field in order",
    BAD_ORDER_ACTION_FIELD: "CTP:Bad field in order action",
    INSTRUMENT_NOT_FOUND: "CTP:Instrument not found",
    INSTRUMENT_NOT_TRADING: "CTP:Instrument not trading",
    DUPLICATE_ORDER_REF: "CTP:Duplicate order reference",
    ORDER_NOT_FOUND: "CTP:Cancel order - corresponding order not found",
    ORDER_NOT_CANCELABLE: "CTP:Order status does not allow cancel",
    UNSUPPORTED_FUNCTION: "CTP:Unsupported function",
    CLOSE_EXCEEDS_POSITION: "CTP:Close volume exceeds position",
    INSUFFICIENT_MONEY: "CTP:Insufficient money",
    SETTLEMENT_NOT_CONFIRMED: "CTP:Settlement not confirmed",
    CLOSE_TODAY_EXCEEDS: "CTP:Close-today volume exceeds today position",
    CLOSE_YESTERDAY_EXCEEDS: "CTP:Close-yesterday volume exceeds yesterday position",
}


def message(error_id: int) -> str:
    """The default ErrorMsg for an ErrorID."""
    return MESSAGES.get(error_id, f"error {error_id}")


def rsp_info(error_id: int = OK, error_msg: str | None = None) -> dict:
    """A CTP RspInfo body."""
    return {"ErrorID": error_id, "ErrorMsg": message(error_id) if error_msg is None else error_msg}


class CtpError(Exception):
    """A request failed with an ErrorID from the table above.

    Back ends raise it with the CTP code for the situation and keep their native text in
    ``error_msg``; the server turns it into the RspInfo of the response.
    """

    def __init__(self, error_id: int, error_msg: str | None = None, detail: str | None = None):
        self.error_id = error_id
        if error_msg is None:
            # Bridge codes carry the detail in ErrorMsg too, for clients that show only it.
            error_msg = message(error_id) + (f": {detail}" if detail and error_id < 0 else "")
        self.error_msg = error_msg
        self.detail = detail
        super().__init__(f"[{error_id}] {self.error_msg}" + (f" ({detail})" if detail else ""))

    def rsp_info(self) -> dict:
        return {"ErrorID": self.error_id, "ErrorMsg": self.error_msg}
