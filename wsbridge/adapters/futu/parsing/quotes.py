"""Futu quotes -> DepthMarketData, and Futu market states -> CTP trading states.

Futu pushes the basic quote (prices, volume) and the order book separately; the md side
keeps the latest of each per code and merges them with :func:`depth_market_data` on every
push. Levels Futu does not send are 0, as in the sim exchange.
"""

from __future__ import annotations

from collections.abc import Sequence

from wsbridge.adapters.futu.parsing.account import number
from wsbridge.adapters.futu.parsing.codes import digits
from wsbridge.adapters.futu.parsing.orders import split_time
from wsbridge.protocol import catalog

LEVELS = 5

# Futu MarketState names in which orders trade continuously or in an auction.
CONTINUOUS = frozenset({
    "MORNING", "AFTERNOON", "PRE_MARKET_BEGIN", "AFTER_HOURS_BEGIN", "NIGHT_OPEN",
    "FUTURE_DAY_OPEN", "FUTURE_OPEN", "FUTURE_AFTERNOON", "NIGHT", "OVERNIGHT",
    "OVERNIGHT_BEGIN", "TRADE_AT_LAST", "STIB_AFTER_HOURS_BEGIN", "ASHARE_AFTER_HOURS_BEGIN",
})
AUCTION = frozenset({"AUCTION", "HK_CAS", "CLOSE_AUCTION", "TRADE_AUCTION"})
BEFORE = frozenset({"WAITING_OPEN", "FUTURE_DAY_WAIT_OPEN", "FUTURE_NIGHT_WAIT",
                    "PRE_MARKET_END"})
BREAK = frozenset({"REST", "FUTURE_DAY_BREAK", "FUTURE_BREAK", "STIB_AFTER_HOURS_WAIT",
                   "ASHARE_AFTER_HOURS_WAIT"})

# CTP InstrumentStatus characters.
IS_BEFORE_TRADING, IS_NO_TRADING, IS_CONTINUOUS, IS_AUCTION, IS_CLOSED = "0", "1", "2", "3", "6"
# CTP InstLifePhase characters.
IP_STARTED, IP_PAUSE = "1", "2"


def instrument_status(market_state: str) -> str:
    """CTP InstrumentStatus for a Futu MarketState name."""
    state = (market_state or "").upper()
    if state in CONTINUOUS:
        return IS_CONTINUOUS
    if state in AUCTION:
        return IS_AUCTION
    if state in BEFORE:
        return IS_BEFORE_TRADING
    if state in BREAK:
        return IS_NO_TRADING
    return IS_CLOSED


def is_trading(market_state: str) -> bool:
    """Whether orders can trade now (continuous session or an auction)."""
    return instrument_status(market_state) in (IS_CONTINUOUS, IS_AUCTION)


def _levels(out: dict, side: str, levels: Sequence) -> None:
    for k, level in enumerate(list(levels or ())[:LEVELS], 1):
        out[f"{side}Price{k}"] = number(level[0])
        out[f"{side}Volume{k}"] = int(number(level[1]))


def depth_market_data(instrument_id: str, exchange_id: str, quote: dict | None,
                      book: dict | None) -> dict:
    """A CThostFtdcDepthMarketDataField dict from a basic quote and/or an order book.

    ``quote`` is a row of futu-api's quote push (``last_price``, ``data_date``, ...),
    ``book`` its order book push (``Bid`` / ``Ask``: lists of (price, volume, ...)).
    """
    out = catalog.blank("DepthMarketData")
    out.update(InstrumentID=instrument_id, ExchangeID=exchange_id,
               ExchangeInstID=instrument_id)
    if quote:
        date = str(quote.get("data_date") or "").replace("-", "")
        clock, _, fraction = str(quote.get("data_time") or "").partition(".")
        out.update(
            _day_stats(quote),
            TradingDay=date, ActionDay=date, UpdateTime=clock,
            UpdateMillisec=int(fraction[:3].ljust(3, "0")) if digits(fraction) else 0,
        )
    if book:
        _levels(out, "Bid", book.get("Bid"))
        _levels(out, "Ask", book.get("Ask"))
        if not quote:
            date, clock = split_time(str(book.get("svr_recv_time_bid") or ""))
            out.update(TradingDay=date, ActionDay=date, UpdateTime=clock)
    return out


def depth_from_snapshot(instrument_id: str, exchange_id: str, snapshot: dict) -> dict:
    """A CThostFtdcDepthMarketDataField dict from a ``get_market_snapshot`` row (one level)."""
    date, clock = split_time(str(snapshot.get("update_time") or ""))
    out = catalog.blank("DepthMarketData")
    out.update(
        _day_stats(snapshot),
        InstrumentID=instrument_id, ExchangeID=exchange_id, ExchangeInstID=instrument_id,
        TradingDay=date, ActionDay=date, UpdateTime=clock,
        BidPrice1=number(snapshot.get("bid_price")),
        BidVolume1=int(number(snapshot.get("bid_vol"))),
        AskPrice1=number(snapshot.get("ask_price")),
        AskVolume1=int(number(snapshot.get("ask_vol"))),
    )
    return out


def _day_stats(row: dict) -> dict:
    """Last/open/high/low/pre-close, volume, turnover and average price from a Futu quote or
    snapshot row (both name them alike)."""
    volume = int(number(row.get("volume")))
    turnover = number(row.get("turnover"))
    return {
        "LastPrice": number(row.get("last_price")),
        "OpenPrice": number(row.get("open_price")),
        "HighestPrice": number(row.get("high_price")),
        "LowestPrice": number(row.get("low_price")),
        "PreClosePrice": number(row.get("prev_close_price")),
        "Volume": volume,
        "Turnover": turnover,
        "AveragePrice": round(turnover / volume, 6) if volume else 0.0,
    }
