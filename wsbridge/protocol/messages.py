"""Messages on the wire: decoding requests, building responses and pushes. No I/O.

A request is decoded and validated in one call, :func:`decode_request`, which either
returns a :class:`Request` or raises :class:`ProtocolError` carrying the exact reply to
send (the request's own response type where it is known, else ``RspError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from wsbridge.protocol import catalog, errors
from wsbridge.protocol.schema import describe, request_checker

encode = orjson.dumps  # every message leaves as UTF-8 JSON bytes


@dataclass(frozen=True, slots=True)
class Request:
    """A validated client request."""

    msg_type: str
    body: dict
    request_id: int = 0
    instrument_ids: tuple[str, ...] = ()  # Subscribe/UnSubscribe* (md) only


class ProtocolError(Exception):
    """A request the bridge answers itself, without reaching a back end."""

    def __init__(
        self,
        error_id: int,
        detail: str | None = None,
        *,
        reply_type: str = "RspError",
        body_key: str | None = None,
        request_id: int | None = None,
        error_msg: str | None = None,
    ) -> None:
        self.error_id = error_id
        if error_msg is None:
            error_msg = errors.message(error_id) + (f": {detail}" if detail else "")
        self.error_msg = error_msg
        self.detail = detail
        self.reply_type = reply_type
        self.body_key = body_key
        self.request_id = request_id
        super().__init__(f"[{error_id}] {self.error_msg}")

    def reply(self) -> dict:
        return error_reply(self.reply_type, self.body_key, self.error_id, self.error_msg,
                           self.request_id, self.detail)


def decode_request(raw: str | bytes, app: str, max_bytes: int | None = None) -> Request:
    """Parse and validate one client frame for an ``app`` ("md" or "td") server."""
    if max_bytes is not None and len(raw) > max_bytes:
        raise ProtocolError(errors.BAD_PARAMETER,
                            f"message of {len(raw)} bytes exceeds the limit of {max_bytes}")
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(errors.BAD_PARAMETER, f"invalid JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise ProtocolError(errors.BAD_PARAMETER,
                            f"expected a JSON object, got {describe(msg)}")
    request_id = msg.get("RequestID")
    if isinstance(request_id, float) and request_id.is_integer():
        request_id = int(request_id)
    if not (isinstance(request_id, int) and not isinstance(request_id, bool)
            and -(2**31) <= request_id < 2**31):
        request_id = None
    msg_type = msg.get("MsgType")
    if msg_type is None:
        raise ProtocolError(errors.BAD_PARAMETER, "MsgType: required", request_id=request_id)
    if not isinstance(msg_type, str):
        raise ProtocolError(errors.BAD_PARAMETER,
                            f"MsgType: expected text, got {describe(msg_type)}",
                            request_id=request_id)
    spec = catalog.message(app, msg_type)
    if spec is None or spec.kind != "request":
        raise ProtocolError(errors.NOT_SUPPORTED, _unknown(app, msg_type),
                            request_id=request_id)
    reply = spec.response
    problem = request_checker(app, msg_type)(msg, "")
    if problem:
        raise ProtocolError(errors.BAD_PARAMETER, problem, reply_type=reply.msg_type,
                            body_key=reply.body, request_id=request_id)
    if spec.instrument_list:
        return Request(msg_type, {}, request_id or 0, tuple(msg["InstrumentID"]))
    return Request(msg_type, _integral(spec.struct, msg.get(spec.body) or {}), request_id or 0)


def _integral(struct: str, body: dict) -> dict:
    """Integer fields sent as 1.0 (valid JSON Schema integers) become Python ints."""
    floats = [k for k, v in body.items() if isinstance(v, float)]
    if floats:
        kinds = catalog.fields(struct)
        for key in floats:
            if kinds[key].kind == "int":
                body[key] = int(body[key])
    return body


def _unknown(app: str, msg_type: str) -> str:
    other = "md" if app == "td" else "td"
    spec = catalog.message(other, msg_type)
    if spec is not None and spec.kind == "request":
        return f"MsgType {msg_type!r} is served by the {other} server, not {app}"
    if spec is not None or catalog.message(app, msg_type) is not None:
        return f"MsgType {msg_type!r} is sent by the server, not a request"
    return f"unknown MsgType {msg_type!r}"


def reply_spec(app: str, msg_type: str) -> catalog.MessageSpec:
    """The response spec for a request MsgType."""
    spec = catalog.message(app, msg_type)
    if spec is None or spec.response is None:
        raise KeyError(msg_type)
    return spec.response


def response(
    msg_type: str,
    body_key: str | None,
    body: Any,
    rsp_info: dict | None,
    request_id: int | None,
    is_last: bool = True,
) -> dict:
    """One response row, in webctp's shape."""
    msg: dict[str, Any] = {"MsgType": msg_type, "RspInfo": rsp_info,
                           "RequestID": request_id or 0, "IsLast": is_last}
    if body_key:
        msg[body_key] = body
    return msg


def error_reply(
    msg_type: str,
    body_key: str | None,
    error_id: int,
    error_msg: str | None = None,
    request_id: int | None = None,
    detail: str | None = None,
) -> dict:
    """A one-row error response; ``Detail`` says what exactly was wrong."""
    msg = response(msg_type, body_key, None, errors.rsp_info(error_id, error_msg), request_id)
    if detail:
        msg["Detail"] = detail
    return msg


def push(msg_type: str, body_key: str | None, body: Any, rsp_info: dict | None = None) -> dict:
    """A push (RtnOrder, ErrRtnOrderInsert, ...)."""
    msg: dict[str, Any] = {"MsgType": msg_type}
    if rsp_info is not None:
        msg["RspInfo"] = rsp_info
    if body_key:
        msg[body_key] = body
    return msg


def front_status(connected: bool, error_msg: str = "", reason: int = 0) -> dict:
    """FrontConnected / FrontDisconnected (ErrorID 8) for every client of a server."""
    if connected:
        return {"MsgType": "FrontConnected",
                "RspInfo": errors.rsp_info(errors.OK, error_msg or "upstream connected")}
    return {"MsgType": "FrontDisconnected", "Reason": reason,
            "RspInfo": errors.rsp_info(errors.FRONT_NOT_ACTIVE,
                                       error_msg or errors.message(errors.FRONT_NOT_ACTIVE))}
