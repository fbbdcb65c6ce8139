"""The memory layout of each openctp struct class, as a :mod:`struct` format.

The field list comes from the committed protocol catalog (generated from openctp); each
layout is checked once against the live SWIG class by writing a marker into every field
through openctp and reading it back from raw memory, so a different openctp build can
never be misread: its structs fall back to openctp's own getters and setters.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import struct
from dataclasses import dataclass

from wsbridge.protocol import catalog

log = logging.getLogger("wsbridge.ctp.layout")

PREFIX, SUFFIX = "CThostFtdc", "Field"
_INT32_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Slot:
    """One field: its name, kind ("int" | "float" | "char" | "string") and byte size."""

    name: str
    kind: str
    size: int  # text: bytes including the NUL; char: 1


@dataclass(frozen=True, slots=True)
class Layout:
    """How one struct class sits in memory; ``packer`` is None when it could not be verified."""

    struct: str  # catalog name, e.g. "InputOrder"
    slots: tuple[Slot, ...]
    packer: struct.Struct | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.slots)


def struct_name(cls: type) -> str:
    """``CThostFtdcInputOrderField`` -> ``InputOrder``."""
    return cls.__name__.removeprefix(PREFIX).removesuffix(SUFFIX)


def address(obj: object) -> int:
    """The C address of a SWIG struct proxy."""
    return int(obj.this)  # type: ignore[attr-defined]


@functools.cache
def layout_of(cls: type) -> Layout:
    """The verified layout of an openctp struct class (cached per class)."""
    name = struct_name(cls)
    specs = catalog.fields(name)
    probe = cls()
    slots = []
    codes = []
    for spec in specs.values():
        if spec.kind == "int":
            code = "i" if _holds_int32(probe, spec.name) else "h"
            slots.append(Slot(spec.name, "int", struct.calcsize(code)))
        elif spec.kind == "float":
            code = "d"
            slots.append(Slot(spec.name, "float", 8))
        elif spec.kind == "char":
            code = "c"
            slots.append(Slot(spec.name, "char", 1))
        else:
            code = f"{spec.max_len + 1}s"
            slots.append(Slot(spec.name, "string", spec.max_len + 1))
        codes.append(code)
    packer = struct.Struct("@" + "".join(codes))
    layout = Layout(name, tuple(slots), packer)
    problem = _verify(cls, layout)
    if problem:
        log.warning("%s: raw layout unusable (%s); using openctp's accessors", cls.__name__,
                    problem)
        layout = Layout(name, layout.slots, None)
    return layout


def _holds_int32(obj: object, name: str) -> bool:
    try:
        setattr(obj, name, _INT32_MAX)
    except OverflowError:
        return False
    return True


def _marker(slot: Slot, i: int) -> object:
    if slot.kind == "int":
        return 100 + i
    if slot.kind == "float":
        return 0.25 + i
    if slot.kind == "char":
        return chr(ord("A") + i % 26)
    return f"m{i}"[: slot.size - 1]


def _verify(cls: type, layout: Layout) -> str | None:
    """None when every field written through openctp reads back at its computed offset."""
    assert layout.packer is not None
    obj = cls()
    try:
        for i, slot in enumerate(layout.slots):
            setattr(obj, slot.name, _marker(slot, i))
    except (AttributeError, TypeError, OverflowError) as exc:
        return f"field list differs from openctp's: {exc}"
    raw = ctypes.string_at(address(obj), layout.packer.size)
    for i, (slot, value) in enumerate(zip(layout.slots, layout.packer.unpack(raw),
                                          strict=True)):
        expected = _marker(slot, i)
        if slot.kind in ("char", "string"):
            value = value.split(b"\0", 1)[0].decode("ascii", "replace")
        if value != expected:
            return f"{slot.name} not where expected"
    return None
