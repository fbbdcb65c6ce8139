"""SPI classes generated from the protocol catalog: every On* callback of openctp's
CThostFtdcTraderSpi / CThostFtdcMdSpi, none written out by hand.

protocols/index.json was generated from the same openctp classes and records, per
callback, whether it carries a body struct, an RspInfo, a RequestID/IsLast pair or a plain
integer (Reason, TimeLapse). :func:`spi_class` turns each entry into a method that converts
its arguments to dicts on CTP's own thread (the struct pointers are only valid during the
call) and hands an :class:`Event` to the owner's ``emit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wsbridge.adapters.ctp.parsing import raw_text, to_dict
from wsbridge.protocol import catalog

log = logging.getLogger("wsbridge.ctp.spi")

# Text a front splits over several rows at a byte count, so a character can straddle two
# rows: the rows are decoded together (see upstream.Pending), not each on its own.
CONTINUED_TEXT = {"SettlementInfo": "Content"}


@dataclass(slots=True)
class Event:
    """One SPI callback, converted: safe to move to another thread."""

    msg_type: str  # the callback name without "On": RspQryOrder, RtnTrade, FrontConnected
    body_key: str | None = None
    body: dict | None = None
    rsp_info: dict | None = None
    request_id: int = 0
    is_last: bool = True
    scalars: dict[str, int] = field(default_factory=dict)
    continued: tuple[str, bytes] | None = None  # (field, raw bytes) of CONTINUED_TEXT

    @property
    def error_id(self) -> int:
        return (self.rsp_info or {}).get("ErrorID", 0)


Emit = Callable[[Event], None]


def _handler(spec: catalog.MessageSpec) -> Callable:
    """The On<MsgType> method for one catalog entry."""
    msg_type, body_key = spec.msg_type, spec.body
    rsp_info, scalars = spec.rsp_info, spec.scalars
    has_body = spec.struct is not None
    is_response = spec.kind == "response"
    continued = CONTINUED_TEXT.get(spec.struct or "") if is_response else None

    def on_callback(self: Any, *args: Any) -> None:
        # An exception escaping a SWIG director method aborts the process: never let one.
        try:
            args = list(args)
            event = Event(msg_type, body_key)
            if has_body:
                struct = args.pop(0)
                event.body = to_dict(struct)
                if continued and struct is not None:
                    event.continued = (continued, raw_text(struct, continued))
            if rsp_info:
                event.rsp_info = to_dict(args.pop(0))
            if is_response:
                event.request_id, event.is_last = int(args[0]), bool(args[1])
            for name, value in zip(scalars, args, strict=False):
                event.scalars[name] = int(value)
            self.emit(event)
        except Exception:
            log.exception("On%s failed", msg_type)

    on_callback.__name__ = on_callback.__qualname__ = "On" + msg_type
    on_callback.__doc__ = f"CTP's On{msg_type}, converted and handed to ``emit``."
    return on_callback


def callback_specs(app: str) -> dict[str, catalog.MessageSpec]:
    """Every callback of an app's SPI: the catalog's responses and pushes."""
    return {name: spec for name, spec in catalog.messages(app).items()
            if spec.kind in ("response", "push")}


def spi_class(app: str, base: type) -> type:
    """A subclass of openctp's ``base`` SPI overriding every callback it declares.

    Instances take ``emit`` (called on CTP's thread with each :class:`Event`).
    """
    methods: dict[str, Any] = {}
    for name, spec in callback_specs(app).items():
        method = "On" + name
        if not hasattr(base, method):
            raise LookupError(f"{base.__name__} has no {method}: protocols/ and openctp differ")
        methods[method] = _handler(spec)
    missing = {n for n in vars(base) if n.startswith("On")} - methods.keys()
    if missing:
        raise LookupError(f"callbacks missing from protocols/: {', '.join(sorted(missing))}")

    def __init__(self: Any, emit: Emit) -> None:
        base.__init__(self)
        self.emit = emit

    methods["__init__"] = __init__
    return type(f"Bridge{base.__name__.removeprefix('CThostFtdc')}", (base,), methods)
