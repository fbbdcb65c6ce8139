"""InstrumentID / ExchangeID <-> Futu codes (``HK.00700``, ``US.AAPL``, ``SH.600000``).

CTP names an instrument by InstrumentID plus ExchangeID; Futu by one code, market first.
A client may also send the Futu code itself as InstrumentID (``"HK.00700"``), and market
data subscriptions carry no ExchangeID at all, so the market is then read off the symbol.
"""

from __future__ import annotations

import re

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

MARKETS = ("HK", "US", "SH", "SZ")

# Exchange names a client may send -> Futu market.
EXCHANGE_MARKET: dict[str, str] = {
    "HKEX": "HK", "SEHK": "HK", "HK": "HK",
    "NASDAQ": "US", "NYSE": "US", "AMEX": "US", "ARCA": "US", "NYSEARCA": "US",
    "BATS": "US", "OTC": "US", "PINK": "US", "SMART": "US", "US": "US",
    "SSE": "SH", "SHSE": "SH", "SH": "SH",
    "SZSE": "SZ", "SZ": "SZ",
}
# Futu market -> the ExchangeID reported when nothing more precise is known.
MARKET_EXCHANGE: dict[str, str] = {"HK": "HKEX", "US": "US", "SH": "SSE", "SZ": "SZSE"}
# Futu ExchType (stock basic info) -> ExchangeID.
EXCH_TYPE_EXCHANGE: dict[str, str] = {
    "HK_MAINBOARD": "HKEX", "HK_GEMBOARD": "HKEX", "HK_HKEX": "HKEX",
    "US_NYSE": "NYSE", "US_NASDAQ": "NASDAQ", "US_AMEX": "AMEX", "US_PINK": "OTC",
    "CN_SH": "SSE", "CN_STIB": "SSE", "CN_SZ": "SZSE",
}
# Futu market -> the market part of a Futu TrdMarket / Currency used for it.
MARKET_CURRENCY: dict[str, str] = {"HK": "HKD", "US": "USD", "SH": "CNH", "SZ": "CNH"}

_US_SYMBOL = re.compile(r"^[A-Z][A-Z0-9]*([.\-][A-Z0-9]+)*$")
_SH_PREFIXES = ("5", "6", "9", "11")  # stocks, STAR, B shares, funds, bonds


def digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts superscripts and other scripts)."""
    return text.isascii() and text.isdigit()


def split_code(code: str) -> tuple[str, str]:
    """``"HK.00700"`` -> ``("HK", "00700")``; ValueError if it is not a Futu stock code."""
    market, dot, symbol = code.partition(".")
    if not dot or market not in MARKETS or not symbol:
        raise ValueError(f"not a Futu code: {code!r}")
    return market, symbol


def infer_market(symbol: str) -> str:
    """The market a bare symbol belongs to: 5 digits HK, 6 digits SH/SZ, letters US."""
    if digits(symbol):
        if len(symbol) <= 5:
            return "HK"
        if len(symbol) == 6:
            return "SH" if symbol.startswith(_SH_PREFIXES) else "SZ"
    elif _US_SYMBOL.match(symbol):
        return "US"
    raise ValueError(f"cannot tell the market of {symbol!r}")


def to_futu(instrument_id: str, exchange_id: str = "") -> str:
    """The Futu code for an InstrumentID (and ExchangeID, if given).

    Raises CtpError(16) naming the problem when the pair maps to no Futu market.
    """
    instrument = (instrument_id or "").strip()
    exchange = (exchange_id or "").strip().upper()
    if not instrument:
        raise CtpError(errors.INSTRUMENT_NOT_FOUND, detail="InstrumentID is empty")
    try:
        market, symbol = split_code(instrument)
    except ValueError:
        market, symbol = "", instrument
    if exchange:
        wanted = EXCHANGE_MARKET.get(exchange)
        if wanted is None:
            raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                           detail=f"ExchangeID {exchange_id!r} is not a Futu market "
                           f"(known: {', '.join(sorted(EXCHANGE_MARKET))})")
        if market and market != wanted:
            raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                           detail=f"{instrument} is not listed on {exchange}")
        market = wanted
    if not market:
        try:
            market = infer_market(symbol if digits(symbol) else symbol.upper())
        except ValueError as exc:
            raise CtpError(errors.INSTRUMENT_NOT_FOUND, detail=str(exc)) from None
    if market == "HK":
        if not digits(symbol) or len(symbol) > 5:
            raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                           detail=f"HK codes are up to 5 digits, got {symbol!r}")
        symbol = symbol.zfill(5)
    elif market == "US":
        symbol = symbol.upper()
    elif not (digits(symbol) and len(symbol) == 6):
        raise CtpError(errors.INSTRUMENT_NOT_FOUND,
                       detail=f"A-share codes are 6 digits, got {symbol!r}")
    return f"{market}.{symbol}"


def from_futu(code: str, exchange: str | None = None) -> tuple[str, str]:
    """``"HK.00700"`` -> ``("00700", "HKEX")``; ``exchange`` overrides the market default."""
    market, symbol = split_code(code)
    return symbol, exchange or MARKET_EXCHANGE[market]


def exchange_of_type(exch_type: str, market: str) -> str:
    """The ExchangeID for a Futu ExchType (``"US_NASDAQ"`` -> ``"NASDAQ"``)."""
    return EXCH_TYPE_EXCHANGE.get(exch_type, MARKET_EXCHANGE.get(market, market))
