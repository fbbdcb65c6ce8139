"""CTP vocabulary the engine uses: blank struct dicts and the enum characters.

Struct dicts come from the protocol catalog (every field of a CThostFtdc*Field with its zero
value). The enum characters are CTP's, written out here so the engine needs no CTP SDK.
"""

from __future__ import annotations

from functools import cache


@cache
def _template(struct: str) -> dict:
    try:
        from wsbridge.protocol import catalog  # type: ignore[attr-defined]
    except ImportError:
        return _template_from_openctp(struct)
    return catalog.blank(struct)


def _template_from_openctp(struct: str) -> dict:
    # Temporary until wsbridge.protocol.catalog lands on main.
    from openctp_ctp import tdapi

    obj = getattr(tdapi, f"CThostFtdc{struct}Field")()
    out = {}
    for name in dir(obj):
        if name.startswith("_") or name in ("this", "thisown"):
            continue
        value = getattr(obj, name)
        out[name] = "" if isinstance(value, (str, bytes)) else type(value)()
    return out


def blank(struct: str) -> dict:
    """A fresh dict with every field of ``CThostFtdc<struct>Field`` at its zero value."""
    return dict(_template(struct))


def filled(struct: str, **values: object) -> dict:
    """A full ``struct`` dict with ``values`` set."""
    out = dict(_template(struct))
    out.update(values)
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
