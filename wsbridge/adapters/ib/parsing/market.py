"""IB tickers and contract details -> DepthMarketData and Instrument."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from wsbridge.protocol import catalog

SPOT = "4"  # ProductClass for stocks (CTP's 即期)
FUTURES, OPTIONS = "1", "2"
_PRODUCT_CLASS = {"STK": SPOT, "FUT": FUTURES, "OPT": OPTIONS, "FOP": OPTIONS}


def _price(value: Any) -> float:
    """IB's unset (nan, -1, DBL_MAX) -> 0.0."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return float(value) if 0 <= value < 1e300 else 0.0


def _size(value: Any) -> int:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return 0
    return int(value)


def ticker_to_depth(ticker: Any, ids: tuple[str, str], *, trading_day: str,
                    local_time: datetime) -> dict:
    """A CThostFtdcDepthMarketDataField dict from an ib-insync Ticker (level 1).

    ``local_time`` is when the tick arrived, in the bridge's local time. IB's ``close``
    is the previous session's close, so it becomes PreClosePrice.
    """
    volume = _size(ticker.volume)
    vwap = _price(getattr(ticker, "vwap", math.nan))
    return catalog.filled("DepthMarketData", {
        "TradingDay": trading_day, "ActionDay": local_time.strftime("%Y%m%d"),
        "InstrumentID": ids[0], "ExchangeID": ids[1],
        "ExchangeInstID": ticker.contract.localSymbol if ticker.contract else ids[0],
        "LastPrice": _price(ticker.last),
        "PreClosePrice": _price(ticker.close),
        "OpenPrice": _price(ticker.open),
        "HighestPrice": _price(ticker.high),
        "LowestPrice": _price(ticker.low),
        "Volume": volume,
        "Turnover": vwap * volume,
        "AveragePrice": vwap,
        "BidPrice1": _price(ticker.bid), "BidVolume1": _size(ticker.bidSize),
        "AskPrice1": _price(ticker.ask), "AskVolume1": _size(ticker.askSize),
        "UpdateTime": local_time.strftime("%H:%M:%S"),
        "UpdateMillisec": local_time.microsecond // 1000,
    })


def details_to_instrument(details: Any, ids: tuple[str, str]) -> dict:
    """A CThostFtdcInstrumentField dict from IB ContractDetails."""
    contract = details.contract
    try:
        multiple = int(float(contract.multiplier or 1))
    except ValueError:
        multiple = 1
    expiry = contract.lastTradeDateOrContractMonth[:8]
    min_size = _size(getattr(details, "minSize", 1)) or 1
    return catalog.filled("Instrument", {
        "InstrumentID": ids[0], "ExchangeID": ids[1],
        "InstrumentName": details.longName or contract.symbol,
        "ExchangeInstID": contract.localSymbol or ids[0],
        "ProductID": contract.tradingClass or contract.symbol,
        "ProductClass": _PRODUCT_CLASS.get(contract.secType, SPOT),
        "VolumeMultiple": multiple, "PriceTick": _price(details.minTick),
        "MinLimitOrderVolume": min_size, "MinMarketOrderVolume": min_size,
        "MaxLimitOrderVolume": 1_000_000, "MaxMarketOrderVolume": 1_000_000,
        "ExpireDate": expiry if len(expiry) == 8 else "",
        "DeliveryYear": int(expiry[:4]) if len(expiry) >= 6 else 0,
        "DeliveryMonth": int(expiry[4:6]) if len(expiry) >= 6 else 0,
        "InstLifePhase": "1", "IsTrading": 1, "PositionType": "1", "PositionDateType": "2",
        "StrikePrice": _price(contract.strike),
        "UnderlyingInstrID": details.underSymbol or "",
    })
