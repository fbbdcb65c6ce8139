"""The message and struct tables, read from the committed protocols/ directory.

Nothing here imports openctp: protocols/ was generated from it once
(:mod:`wsbridge.protocol.generate`) and is plain JSON.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import orjson

ZERO = {"float": 0.0, "int": 0, "char": "", "string": ""}


def protocols_dir() -> Path:
    """Where protocols/ lives: $WSBRIDGE_PROTOCOLS, else next to the package."""
    env = os.environ.get("WSBRIDGE_PROTOCOLS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "protocols"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a CTP struct."""

    name: str
    kind: str  # "char" | "string" | "int" | "float"
    max_len: int  # for text: most characters CTP can hold
    ctype: str


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One MsgType of one app (md or td)."""

    msg_type: str
    app: str
    kind: str  # "request" | "response" | "push"
    body: str | None  # JSON key of the body, e.g. "QryInstrument"
    struct: str | None  # struct name without CThostFtdc/Field
    responses: tuple[str, ...] = ()
    request: str | None = None
    instrument_list: bool = False
    rsp_info: bool = False  # responses / ErrRtn pushes: the callback carries an RspInfo
    scalars: tuple[str, ...] = ()  # plain integer arguments (FrontDisconnected's Reason)

    @property
    def response(self) -> MessageSpec | None:
        """The response spec answering this request (its first, for requests)."""
        if not self.responses:
            return None
        return message(self.app, self.responses[0])


def _read_json(path: Path) -> dict:
    return orjson.loads(path.read_bytes())


@functools.cache
def _index() -> dict:
    return _read_json(protocols_dir() / "index.json")


@functools.cache
def structs_schema() -> dict:
    """structs.json: the JSON Schema $defs of every CTP struct used by a message."""
    return _read_json(protocols_dir() / "structs.json")


@functools.cache
def message_schema(app: str, msg_type: str) -> dict:
    """protocols/<app>/<MsgType>.json."""
    return _read_json(protocols_dir() / app / f"{msg_type}.json")


@functools.cache
def messages(app: str) -> dict[str, MessageSpec]:
    """Every MsgType of an app."""
    out = {}
    for name, entry in _index()["apps"][app].items():
        out[name] = MessageSpec(
            msg_type=name,
            app=app,
            kind=entry["kind"],
            body=entry.get("body"),
            struct=entry.get("struct"),
            responses=tuple(entry.get("responses", ())),
            request=entry.get("request"),
            instrument_list=entry.get("instrument_list", False),
            rsp_info=entry.get("rsp_info", False),
            scalars=tuple(entry.get("scalars", ())),
        )
    return out


def message(app: str, msg_type: str) -> MessageSpec | None:
    return messages(app).get(msg_type)


def requests(app: str) -> list[str]:
    """The request MsgTypes of an app, sorted."""
    return sorted(n for n, m in messages(app).items() if m.kind == "request")


@functools.cache
def fields(struct: str) -> dict[str, FieldSpec]:
    """The fields of CThostFtdc<struct>Field, in CTP's order."""
    try:
        props = structs_schema()["$defs"][struct]["properties"]
    except KeyError:
        raise KeyError(f"unknown CTP struct {struct!r}") from None
    out = {}
    for name, prop in props.items():
        if prop["type"] == "number":
            kind = "float"
        elif prop["type"] == "integer":
            kind = "int"
        elif prop.get("maxLength") == 1 and "pattern" not in prop:
            kind = "char"
        else:
            kind = "string"
        out[name] = FieldSpec(name, kind, prop.get("maxLength", 0), prop.get("x-ctype", ""))
    return out


@functools.cache
def _blank(struct: str) -> tuple[tuple[str, object], ...]:
    return tuple((f.name, ZERO[f.kind]) for f in fields(struct).values())


def blank(struct: str) -> dict:
    """A fresh dict with every field of CThostFtdc<struct>Field at its zero value."""
    return dict(_blank(struct))


def filled(struct: str, values: dict) -> dict:
    """blank(struct) updated with ``values`` (keys must be fields of the struct)."""
    out = blank(struct)
    unknown = values.keys() - out.keys()
    if unknown:
        raise KeyError(f"{struct}: not CTP fields: {', '.join(sorted(unknown))}")
    out.update(values)
    return out
