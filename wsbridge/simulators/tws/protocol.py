"""The TWS API socket protocol: framing, handshake and field encoding. Pure, no I/O.

A client opens with ``b"API\\0"`` and a length-prefixed ``"v<min>..<max>[ options]"``;
the server answers ``[server version, connection time]``. After that, both directions
send messages as a 4-byte big-endian length followed by NUL-terminated text fields, the
first field being the message id.
"""

from __future__ import annotations

import enum
import math
import re
import struct
from collections.abc import Iterable
from typing import Any

PREFIX = b"API\0"
SERVER_VERSION = 176  # the protocol version every message layout here is written for
MAX_MESSAGE = 1 << 24  # larger is a broken or hostile client

_VERSION_RANGE = re.compile(r"^v(\d+)(?:\.\.(\d+))?(?:\s+(.*))?$")


class In(enum.IntEnum):
    """Message ids a client sends (EClient's outgoing ids)."""

    REQ_MKT_DATA = 1
    CANCEL_MKT_DATA = 2
    PLACE_ORDER = 3
    CANCEL_ORDER = 4
    REQ_OPEN_ORDERS = 5
    REQ_ACCT_DATA = 6
    REQ_EXECUTIONS = 7
    REQ_IDS = 8
    REQ_CONTRACT_DATA = 9
    REQ_AUTO_OPEN_ORDERS = 15
    REQ_ALL_OPEN_ORDERS = 16
    REQ_MANAGED_ACCTS = 17
    REQ_CURRENT_TIME = 49
    REQ_GLOBAL_CANCEL = 58
    REQ_MARKET_DATA_TYPE = 59
    REQ_POSITIONS = 61
    REQ_ACCOUNT_SUMMARY = 62
    CANCEL_ACCOUNT_SUMMARY = 63
    CANCEL_POSITIONS = 64
    START_API = 71
    REQ_ACCOUNT_UPDATES_MULTI = 76
    CANCEL_ACCOUNT_UPDATES_MULTI = 77
    REQ_COMPLETED_ORDERS = 99


class Out(enum.IntEnum):
    """Message ids the server sends (EDecoder's incoming ids)."""

    TICK_PRICE = 1
    TICK_SIZE = 2
    ORDER_STATUS = 3
    ERR_MSG = 4
    OPEN_ORDER = 5
    ACCT_VALUE = 6
    PORTFOLIO_VALUE = 7
    ACCT_UPDATE_TIME = 8
    NEXT_VALID_ID = 9
    CONTRACT_DATA = 10
    EXECUTION_DATA = 11
    MANAGED_ACCTS = 15
    CURRENT_TIME = 49
    CONTRACT_DATA_END = 52
    OPEN_ORDER_END = 53
    ACCT_DOWNLOAD_END = 54
    EXECUTION_DATA_END = 55
    TICK_SNAPSHOT_END = 57
    MARKET_DATA_TYPE = 58
    COMMISSION_REPORT = 59
    POSITION_DATA = 61
    POSITION_END = 62
    ACCOUNT_SUMMARY = 63
    ACCOUNT_SUMMARY_END = 64
    ACCOUNT_UPDATE_MULTI = 73
    ACCOUNT_UPDATE_MULTI_END = 74
    TICK_REQ_PARAMS = 81
    COMPLETED_ORDER = 101
    COMPLETED_ORDERS_END = 102


class ProtocolViolation(Exception):
    """The peer does not speak the TWS API (or not a version this server speaks)."""


def encode_field(value: Any) -> str:
    """One field as TWS writes it: None empty, booleans 1/0, floats without noise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinite"
        if math.isnan(value):
            return ""
        return repr(value).removesuffix(".0") if value.is_integer() else repr(value)
    if isinstance(value, enum.IntEnum):
        return str(int(value))
    return str(value)


def frame(fields: Iterable[Any]) -> bytes:
    """One length-prefixed message."""
    payload = "".join(encode_field(f) + "\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


class Deframer:
    """Splits a client's byte stream: the ``API\\0`` prefix once, then messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._greeted = False

    def feed(self, data: bytes) -> list[list[str]]:
        """Every complete message in ``data`` (plus what was buffered), as text fields."""
        buffer = self._buffer
        buffer += data
        if not self._greeted:
            if len(buffer) < len(PREFIX):
                if not PREFIX.startswith(bytes(buffer)):
                    raise ProtocolViolation("not a TWS API client: no 'API\\0' greeting")
                return []
            if buffer[:len(PREFIX)] != PREFIX:
                raise ProtocolViolation("not a TWS API client: no 'API\\0' greeting")
            del buffer[:len(PREFIX)]
            self._greeted = True
        messages = []
        while len(buffer) >= 4:
            (size,) = struct.unpack_from(">I", buffer)
            if size > MAX_MESSAGE:
                raise ProtocolViolation(f"message of {size} bytes is too large")
            if len(buffer) < 4 + size:
                break
            text = bytes(buffer[4:4 + size]).decode("utf-8", errors="replace")
            del buffer[:4 + size]
            fields = text.split("\0")
            if len(fields) > 1 and fields[-1] == "":
                fields.pop()  # the terminator of the last field
            messages.append(fields)
        return messages


def parse_version_range(text: str) -> tuple[int, int, str]:
    """``"v157..176 +PACEAPI"`` -> (157, 176, "+PACEAPI")."""
    match = _VERSION_RANGE.match(text.strip())
    if match is None:
        raise ProtocolViolation(f"bad API version range {text!r}")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if high < low:
        raise ProtocolViolation(f"bad API version range {text!r}")
    return low, high, match.group(3) or ""


def negotiate(low: int, high: int) -> int:
    """The server version to use with a client supporting ``low..high``."""
    if not low <= SERVER_VERSION <= high:
        raise ProtocolViolation(
            f"client supports API versions {low}..{high}; this simulator speaks "
            f"{SERVER_VERSION} only")
    return SERVER_VERSION
