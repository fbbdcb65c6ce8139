"""Futu stock basic info (+ snapshot, + market state) -> CTP Instrument."""

from __future__ import annotations

from wsbridge.adapters.futu.parsing.account import number
from wsbridge.adapters.futu.parsing.codes import digits
from wsbridge.adapters.futu.parsing.quotes import IP_PAUSE, IP_STARTED, is_trading
from wsbridge.protocol import catalog

SPOT = "4"  # ProductClass: stocks are spot
DEFAULT_TICK = {"HK": 0.001, "US": 0.01, "SH": 0.01, "SZ": 0.01}


def flag(value: object) -> bool:
    """A Futu boolean (a bool, a numpy bool, or ``"N/A"`` for unknown) as a bool."""
    return not isinstance(value, str) and value is not None and bool(value)


def instrument(info: dict, instrument_id: str, exchange_id: str, market: str,
               snapshot: dict | None = None, market_state: str = "") -> dict:
    """A CThostFtdcInstrumentField dict for one stock.

    ``info`` is a ``get_stock_basicinfo`` row; ``snapshot`` (optional) supplies PriceTick
    and suspension; ``market_state`` (a Futu MarketState name) sets IsTrading: 1 while the
    stock's market trades (continuous session or auction) and it is not suspended.
    """
    lot = int(number(info.get("lot_size"))) or 1
    tick = number((snapshot or {}).get("price_spread")) or DEFAULT_TICK.get(market, 0.01)
    suspended = flag((snapshot or {}).get("suspension")) or flag(info.get("delisting"))
    listed = str(info.get("listing_date") or "").replace("-", "")
    trading = is_trading(market_state) and not suspended
    return catalog.filled("Instrument", {
        "InstrumentID": instrument_id,
        "ExchangeID": exchange_id,
        "ExchangeInstID": instrument_id,
        "InstrumentName": str(info.get("name") or instrument_id),
        "ProductID": instrument_id,
        "ProductClass": SPOT,
        "VolumeMultiple": 1,
        "PriceTick": tick,
        "MinLimitOrderVolume": lot,
        "MinMarketOrderVolume": lot,
        "MaxLimitOrderVolume": lot * 100_000,
        "MaxMarketOrderVolume": lot * 100_000,
        "CreateDate": listed if digits(listed) else "",
        "OpenDate": listed if digits(listed) else "",
        "ExpireDate": "99991231",
        "InstLifePhase": IP_PAUSE if suspended else IP_STARTED,
        "IsTrading": 1 if trading else 0,
        "PositionType": "2",
        "PositionDateType": "2",
        "LongMarginRatio": 1.0,
        "ShortMarginRatio": 1.0,
        "UnderlyingMultiple": 1.0,
    })
