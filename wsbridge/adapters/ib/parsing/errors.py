"""IB error codes -> the CTP ErrorIDs every back end answers with.

IB's codes are listed at https://interactivebrokers.github.io/tws-api/message_codes.html.
The ErrorMsg keeps IB's code and text: ``"IB 200: No security definition has been found"``.
"""

from __future__ import annotations

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

#: IB code -> CTP ErrorID, where the code alone says what happened.
CODES: dict[int, int] = {
    200: errors.INSTRUMENT_NOT_FOUND,  # no security definition found
    203: errors.INSTRUMENT_NOT_TRADING,  # security not available for this account
    103: errors.DUPLICATE_ORDER_REF,  # duplicate order id
    104: errors.ORDER_NOT_CANCELABLE,  # can't modify a filled order
    105: errors.BAD_ORDER_FIELD,  # modified order does not match the original
    110: errors.BAD_ORDER_FIELD,  # price does not conform to the minimum tick
    135: errors.ORDER_NOT_FOUND,  # can't find order with id
    161: errors.ORDER_NOT_CANCELABLE,  # cancel attempted when not cancellable
    321: errors.BAD_ORDER_FIELD,  # error validating request
    387: errors.BAD_ORDER_FIELD,  # unsupported order type for this exchange
    434: errors.BAD_ORDER_FIELD,  # order size cannot be zero
    463: errors.BAD_ORDER_FIELD,  # you must enter a valid price
    10147: errors.ORDER_NOT_FOUND,  # order to cancel not found
    10148: errors.ORDER_NOT_CANCELABLE,  # order to cancel cannot be cancelled (state)
    10149: errors.ORDER_NOT_FOUND,  # invalid order id to cancel
    354: errors.UNSUPPORTED_FUNCTION,  # market data not subscribed
    10089: errors.UNSUPPORTED_FUNCTION,  # market data needs an additional subscription
    10090: errors.UNSUPPORTED_FUNCTION,  # part of requested market data not subscribed
    502: errors.FRONT_NOT_ACTIVE,  # couldn't connect to TWS
    504: errors.FRONT_NOT_ACTIVE,  # not connected
    1100: errors.FRONT_NOT_ACTIVE,  # connectivity between IB and TWS lost
    2110: errors.FRONT_NOT_ACTIVE,  # connectivity between TWS and server broken
}

#: Words in a 201 ("Order rejected - reason: ...") text that say why.
_REJECT_REASONS = (
    (("margin", "equity with loan", "buying power", "insufficient", "funds"),
     errors.INSUFFICIENT_MONEY),
    (("short", "position", "shares available"), errors.CLOSE_EXCEEDS_POSITION),
    (("not allowed", "trading hours", "not open", "halted"), errors.INSTRUMENT_NOT_TRADING),
)

#: Informational codes ib-insync also treats as warnings: they never fail a request.
WARNINGS = frozenset({165, 202, 399, 404, 492, 10167, 10197})

#: Connectivity notices from TWS itself (not tied to a request).
LINK_LOST = frozenset({1100, 2110})
LINK_RESTORED_DATA_LOST = 1101
LINK_RESTORED = 1102


def is_warning(code: int) -> bool:
    """Whether an IB message is informational (farm status 21xx, order warnings, ...)."""
    return code in WARNINGS or (2100 <= code < 2200 and code not in LINK_LOST)


def ctp_error_id(code: int, text: str = "") -> int:
    """The CTP ErrorID for an IB error; -1 (request failed) when nothing closer fits."""
    if code in CODES:
        return CODES[code]
    if code == 201:  # order rejected: the reason is in the text
        lowered = text.lower()
        for words, error_id in _REJECT_REASONS:
            if any(word in lowered for word in words):
                return error_id
        return errors.BAD_ORDER_FIELD
    return errors.REQUEST_FAILED


def ib_error(code: int, text: str) -> CtpError:
    """A CtpError for an IB error, keeping IB's code and text in ErrorMsg."""
    return CtpError(ctp_error_id(code, text), f"IB {code}: {text}")
