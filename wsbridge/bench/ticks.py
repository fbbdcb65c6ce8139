"""The benchmark's tick: a full DepthMarketData whose frame has the same length every time.

Every tick the benchmark sends, through wsbridge or a ceiling server, is one
``RtnDepthMarketData`` message of exactly :data:`FRAME_LEN` bytes on the wire, so a client
can count messages by counting bytes. The injection time rides in the legacy ``reserve1``
field (empty in CTP 6.5+) as 19 zero-padded digits of ``time.monotonic_ns()``, a clock that
every process on the machine shares; :data:`STAMP_AT` is where those digits sit in a frame.
"""

from __future__ import annotations

import time

import orjson

from wsbridge.protocol.catalog import filled
from wsbridge.server.frames import text_frame

STAMP_FIELD = "reserve1"
STAMP_DIGITS = 19
_ZERO_STAMP = "0" * STAMP_DIGITS


MAX_INSTRUMENTS = 10_000


def instrument_ids(count: int) -> list[str]:
    """Instrument ids of one width, so every tick's frame has the same length."""
    if not 1 <= count <= MAX_INSTRUMENTS:
        raise ValueError(f"instruments: must be 1..{MAX_INSTRUMENTS}")
    return [f"bench{i:04d}" for i in range(count)]


def depth(instrument_id: str) -> dict:
    """A realistic, fully filled tick for ``instrument_id`` (about 1 KB as JSON)."""
    last = 3521.0
    values = {
        "TradingDay": "20260105", "ActionDay": "20260105", "ExchangeID": "SHFE",
        "InstrumentID": instrument_id, "ExchangeInstID": instrument_id,
        STAMP_FIELD: _ZERO_STAMP,
        "LastPrice": last, "PreSettlementPrice": 3498.0, "PreClosePrice": 3502.0,
        "PreOpenInterest": 1834512.0, "OpenPrice": 3505.0, "HighestPrice": 3533.0,
        "LowestPrice": 3489.0, "Volume": 1254873, "Turnover": 4412398712.0,
        "OpenInterest": 1845123.0, "ClosePrice": 3520.0, "SettlementPrice": 3519.0,
        "UpperLimitPrice": 3778.0, "LowerLimitPrice": 3218.0, "PreDelta": 0.0,
        "CurrDelta": 0.0, "UpdateTime": "10:15:42", "UpdateMillisec": 500,
        "AveragePrice": 35163.48, "BandingUpperPrice": 0.0, "BandingLowerPrice": 0.0,
    }
    for level in range(1, 6):
        values[f"BidPrice{level}"] = last - level
        values[f"AskPrice{level}"] = last + level
        values[f"BidVolume{level}"] = 100 + 11 * level
        values[f"AskVolume{level}"] = 200 + 13 * level
    return filled("DepthMarketData", values)


def stamp(tick: dict) -> dict:
    """Write the injection time into ``tick`` (in place) and return it."""
    tick[STAMP_FIELD] = f"{time.monotonic_ns():019d}"
    return tick


def message(tick: dict) -> bytes:
    """The JSON text wsbridge sends for ``tick``: byte for byte what its hub encodes."""
    return orjson.dumps({"MsgType": "RtnDepthMarketData", "DepthMarketData": tick})


def _layout() -> tuple[int, int]:
    frame = text_frame(message(depth(instrument_ids(1)[0])))
    marker = f'"{STAMP_FIELD}":"'.encode()
    return len(frame), frame.index(marker) + len(marker)


FRAME_LEN, STAMP_AT = _layout()


def read_stamp(buffer: bytes, frame_start: int) -> int:
    """The injection time (monotonic ns) of the frame starting at ``frame_start``."""
    at = frame_start + STAMP_AT
    return int(buffer[at:at + STAMP_DIGITS])
