"""The OpenD wire format: framing and protobuf bodies. No sockets, no state.

Every packet is a 44-byte header followed by the body::

    "F" "T"  proto_id:u32  fmt:u8  version:u8  serial_no:u32  body_len:u32
    sha1(body):20 bytes  reserved:8 bytes          (little-endian, packed)

``fmt`` is 0 for protobuf and 1 for JSON (protobuf's JSON mapping). The SHA1 is of the
plain body. Encryption (RSA for InitConnect, AES afterwards) is an opt-in of futu-api that
this simulator does not offer.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import DecodeError, EncodeError, Message

HEADER = struct.Struct("<2sIBBII20s8s")
MAGIC = b"FT"
FMT_PROTOBUF = 0
FMT_JSON = 1
MAX_BODY = 16 * 1024 * 1024  # more than any real request; guards the buffer


class ProtocolError(Exception):
    """The peer sent something that is not an OpenD packet: the connection must close."""


class Refusal(Exception):
    """A request OpenD refuses: answered with retType -1 and this text as retMsg."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One decoded packet (header fields plus the raw body)."""

    proto_id: int
    serial_no: int
    fmt: int
    body: bytes
    version: int = 0


def encode_packet(proto_id: int, serial_no: int, body: bytes, fmt: int = FMT_PROTOBUF) -> bytes:
    """Header plus body, ready for the socket."""
    digest = hashlib.sha1(body).digest()
    return HEADER.pack(MAGIC, proto_id, fmt, 0, serial_no, len(body), digest, b"\0" * 8) + body


class PacketReader:
    """Splits a byte stream into packets; feed it whatever the socket returned."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Packet]:
        """Packets completed by ``data``; raises ProtocolError on a malformed stream."""
        self._buffer.extend(data)
        packets = []
        while len(self._buffer) >= HEADER.size:
            magic, proto_id, fmt, version, serial_no, length, digest, _ = HEADER.unpack_from(
                self._buffer)
            if magic != MAGIC:
                raise ProtocolError(f"bad magic {bytes(magic)!r}: not an OpenD client")
            if length > MAX_BODY:
                raise ProtocolError(f"body of {length} bytes is too large")
            end = HEADER.size + length
            if len(self._buffer) < end:
                break
            body = bytes(self._buffer[HEADER.size:end])
            del self._buffer[:end]
            if hashlib.sha1(body).digest() != digest:
                raise ProtocolError(f"proto {proto_id} serial {serial_no}: SHA1 mismatch "
                                    "(an encrypted client? sim-opend does not encrypt)")
            packets.append(Packet(proto_id, serial_no, fmt, body, version))
        return packets


def parse_body(message_class: type[Message], body: bytes, fmt: int) -> Message:
    """Decode a body into ``message_class``; raises ValueError with the reason."""
    message = message_class()
    try:
        if fmt == FMT_JSON:
            json_format.Parse(body.decode("utf-8"), message)
        elif fmt == FMT_PROTOBUF:
            message.ParseFromString(body)
        else:
            raise ValueError(f"unknown body format {fmt}")
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot decode {message_class.__module__}: {exc}") from None
    if not message.IsInitialized():
        missing = ", ".join(message.FindInitializationErrors())
        raise ValueError(f"missing required fields: {missing}")
    return message


def serialize_body(message: Message, fmt: int) -> bytes:
    """Encode a message in the client's format; raises ValueError if it is incomplete."""
    try:
        if fmt == FMT_JSON:
            return json_format.MessageToJson(message).encode("utf-8")
        return message.SerializeToString()
    except EncodeError as exc:
        raise ValueError(f"incomplete {type(message).__module__}: {exc}") from None
