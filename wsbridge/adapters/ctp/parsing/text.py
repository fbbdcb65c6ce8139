"""CTP text fields: GB18030 bytes in the C structs, UTF-8 ``str`` everywhere else.

A CTP front sends and expects GB18030. openctp's SWIG getters decode GB18030 (through the
zh_CN.GB18030 locale) but drop a whole field on one bad byte, and its setters store the
UTF-8 bytes of a ``str`` unchanged, so ``'中文'`` set and read back comes out as mojibake
and a real front would get the wrong bytes. The struct conversion therefore moves raw
bytes itself and does the text coding here, in both directions.
"""

from __future__ import annotations

ENCODING = "gb18030"


class FieldError(ValueError):
    """A value that does not fit its CTP field; ``field`` names it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def decode(raw: bytes) -> str:
    """A C char array's bytes (up to the first NUL) as text.

    Invalid or truncated sequences (CTP cuts long messages at the field size, sometimes
    mid-character) become U+FFFD rather than losing the field.
    """
    raw = raw.split(b"\0", 1)[0]
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode(ENCODING)
    except UnicodeDecodeError:
        return raw.decode(ENCODING, "replace")


def encode(field: str, text: str, max_bytes: int, truncate: bool = False) -> bytes:
    """``text`` as the GB18030 bytes CTP expects, checked against the field size.

    ``truncate`` cuts an overlong value at a character boundary instead (what a C
    ``strncpy`` into the field does, minus the broken last character).
    """
    if not isinstance(text, str):
        raise FieldError(field, f"expected text, got {type(text).__name__}")
    if text.isascii():
        raw = text.encode("ascii")
    else:
        try:
            raw = text.encode(ENCODING)
        except UnicodeEncodeError:
            raise FieldError(field, "text cannot be encoded in GB18030") from None
    if b"\0" in raw:
        raise FieldError(field, "text must not contain NUL")
    if len(raw) > max_bytes and truncate:
        raw = raw[:max_bytes].decode(ENCODING, "ignore").encode(ENCODING)
        while len(raw) > max_bytes:  # "ignore" can leave a 4-byte prefix decoded oddly
            raw = raw[:-1].decode(ENCODING, "ignore").encode(ENCODING)
    if len(raw) > max_bytes:
        raise FieldError(field, f"{len(raw)} bytes in GB18030, the field holds {max_bytes}")
    return raw
