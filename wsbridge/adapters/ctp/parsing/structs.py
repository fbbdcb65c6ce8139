"""openctp struct <-> dict of CTP fields, every field, text as GB18030 on the C side.

:func:`to_dict` reads a struct (as an SPI callback receives it) into a plain dict;
:func:`to_struct` builds a struct (as a Req* call takes it) from a dict. Both work on the
raw memory through :mod:`.layout`, so text goes through :mod:`.text` and never through
openctp's lossy string accessors.
"""

from __future__ import annotations

import ctypes
import struct as _struct
from typing import Any

from wsbridge.adapters.ctp.parsing.layout import Layout, address, layout_of
from wsbridge.adapters.ctp.parsing.text import FieldError, decode, encode


def to_dict(obj: Any) -> dict | None:
    """Every field of an openctp struct as a dict; None for a null pointer."""
    if obj is None:
        return None
    layout = layout_of(type(obj))
    if layout.packer is None:
        return _to_dict_slow(obj, layout)
    values = layout.packer.unpack(ctypes.string_at(address(obj), layout.packer.size))
    out = {}
    for slot, value in zip(layout.slots, values, strict=True):
        kind = slot.kind
        if kind == "string":
            value = decode(value)
        elif kind == "char":
            value = "" if value == b"\0" else decode(value)
        out[slot.name] = value
    return out


def raw_text(obj: Any, name: str) -> bytes:
    """A text field's bytes as CTP holds them (up to the NUL), undecoded."""
    layout = layout_of(type(obj))
    if layout.packer is None:
        value = getattr(obj, name)
        return value if isinstance(value, bytes) else value.encode("gb18030")
    index = layout.names.index(name)
    raw = layout.packer.unpack(ctypes.string_at(address(obj), layout.packer.size))[index]
    return raw.split(b"\0", 1)[0]


def to_struct(cls: type, values: dict | None = None, truncate: bool = False) -> Any:
    """A new ``cls`` instance with ``values`` set and every other field zero.

    Text is ``str`` (encoded to GB18030 here) or ``bytes`` (already CTP's bytes). Raises
    :class:`FieldError` naming the field for an unknown field or a value that does not fit
    (wrong type, out of range, text longer than the field in GB18030 bytes); ``truncate``
    cuts overlong text to the field instead, as a C program would.
    """
    obj = cls()
    fill(obj, values or {}, truncate)
    return obj


def fill(obj: Any, values: dict, truncate: bool = False) -> None:
    """Overwrite every field of ``obj``: ``values`` where given, zero elsewhere."""
    layout = layout_of(type(obj))
    unknown = values.keys() - set(layout.names)
    if unknown:
        raise FieldError(sorted(unknown)[0], f"not a field of CThostFtdc{layout.struct}Field")
    packed = [_pack_value(slot.name, slot.kind, slot.size, values.get(slot.name), truncate)
              for slot in layout.slots]
    if layout.packer is None:
        _fill_slow(obj, layout, packed)
        return
    buffer = (ctypes.c_char * layout.packer.size).from_address(address(obj))
    try:
        layout.packer.pack_into(buffer, 0, *packed)
    except _struct.error:  # out of range for a C short: find which
        for slot, value in zip(layout.slots, packed, strict=True):
            if slot.kind == "int" and slot.size == 2 and not -(2**15) <= value < 2**15:
                raise FieldError(slot.name, f"{value} is out of range for this field") \
                    from None
        raise


def _pack_value(name: str, kind: str, size: int, value: Any, truncate: bool) -> Any:
    if kind == "string" and isinstance(value, bytes):
        if b"\0" in value or len(value) > size - 1:
            raise FieldError(name, f"{len(value)} raw bytes, the field holds {size - 1}")
        return value
    if kind == "string":
        return b"" if value is None or value == "" else encode(name, value, size - 1,
                                                                truncate)
    if kind == "char":
        if value is None or value == "":
            return b"\0"
        raw = encode(name, value, 1)
        return raw
    if value is None:
        return 0 if kind == "int" else 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FieldError(name, f"expected a number, got {type(value).__name__}")
    if kind == "int":
        if isinstance(value, float):
            if not value.is_integer():
                raise FieldError(name, f"expected an integer, got {value}")
            value = int(value)
        if not -(2**31) <= value < 2**31:
            raise FieldError(name, f"{value} is out of range for a 32-bit integer")
        return value
    return float(value)


# --- fallback through openctp's accessors (an openctp build whose layout differs) ------

def _to_dict_slow(obj: Any, layout: Layout) -> dict:
    out = {}
    for slot in layout.slots:
        value = getattr(obj, slot.name, None)
        if value is None:
            value = {"int": 0, "float": 0.0}.get(slot.kind, "")
        out[slot.name] = value
    return out


def _fill_slow(obj: Any, layout: Layout, packed: list) -> None:
    for slot, value in zip(layout.slots, packed, strict=True):
        if isinstance(value, bytes):
            value = value.rstrip(b"\0").decode("gb18030")  # openctp stores it as UTF-8
        try:
            setattr(obj, slot.name, value)
        except (AttributeError, TypeError, OverflowError) as exc:
            raise FieldError(slot.name, str(exc)) from None
