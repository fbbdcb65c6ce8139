"""WebSocket frames built once and shared: the md fan-out writes the same bytes to every
subscriber. Server-to-client frames are unmasked (RFC 6455 §5.1), so one encoded frame
is valid on every connection; compression is off on our servers for the same reason.
"""

from __future__ import annotations

import struct

_OP_TEXT_FIN = 0x81


def text_frame(payload: bytes) -> bytes:
    """A single, final, unmasked text frame carrying ``payload`` (UTF-8 JSON)."""
    n = len(payload)
    if n < 126:
        return bytes((_OP_TEXT_FIN, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", _OP_TEXT_FIN, 126, n) + payload
    return struct.pack("!BBQ", _OP_TEXT_FIN, 127, n) + payload
