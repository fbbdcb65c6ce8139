"""CTP vocabulary the engine uses: blank struct dicts and the enum characters.

Struct dicts come from the protocol catalog (every field of a CThostFtdc*Field with its zero
value). The enum characters are CTP's, written out here so the engine needs no CTP SDK.
"""

from __future__ import annotations

from wsbridge.protocol import catalog


def blank(struct: str) -> dict:
    """A fresh dict with every field of ``CThostFtdc<struct>Field`` at its zero value."""
    return catalog.blank(struct)


def filled(struct: str, **values: object) -> dict:
    """A full ``struct`` dict with ``values`` set (KeyError for a field CTP lacks)."""
    return catalog.filled(struct, values)


def read(struct: str, body: dict | None) -> dict:
    """A full ``struct`` dict from a client's partial one.

    Unknown keys and nulls are dropped; numbers sent as text become numbers where the
    field is numeric (a value that does not convert is kept, for the checks to reject).
    """
    out = catalog.blank(struct)
    for key, value in (body or {}).items():
        if key not in out or value is None:
            continue
        zero = out[key]
        if isinstance(zero, str):
            out[key] = value if isinstance(value, str) else str(value)
        elif isinstance(value, str):
            try:
                out[key] = type(zero)(value)
            except ValueError:
                out[key] = value
        else:
            out[key] = value
    return out


# Direction
BUY, SELL = "0", "1"
# OffsetFlag
OPEN, CLOSE, FORCE_CLOSE, CLOSE_TODAY, CLOSE_YESTERDAY = "0", "1", "2", "3", "4"
# OrderPriceType
ANY_PRICE, LIMIT_PRICE = "1", "2"
# TimeCondition
IOC, GFS, GFD = "1", "2", "3"
# VolumeCondition
VC_ANY, VC_MIN, VC_ALL = "1", "2", "3"
# ContingentCondition
IMMEDIATELY = "1"
# HedgeFlag
SPECULATION = "1"
# OrderStatus
ALL_TRADED, PART_TRADED, NO_TRADE, CANCELED, UNKNOWN = "0", "1", "3", "5", "a"
# OrderSubmitStatus
INSERT_SUBMITTED, ACCEPTED = "0", "3"
# OrderActionStatus
ACTION_REJECTED = "c"
# ActionFlag
ACTION_DELETE = "0"
# PosiDirection
LONG, SHORT = "2", "3"
# PositionDate
TODAY, HISTORY = "1", "2"
# PositionDateType
USE_HISTORY, NO_USE_HISTORY = "1", "2"
# ProductClass
FUTURES, SPOT = "1", "4"
# PriceSource
PRICE_FROM_BUY, PRICE_FROM_SELL = "1", "2"

WORKING = frozenset({PART_TRADED, NO_TRADE, UNKNOWN})
