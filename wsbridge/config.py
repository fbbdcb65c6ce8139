"""Server configuration: YAML in, typed dataclasses out, one-line errors naming the key.

The top level is the server's own (:class:`ServerConfig`); the section named after the
back end (``sim:``, ``ctp:``, ``ib:``, ``futu:``) is handed to that adapter's
``parse_settings``, which can use :func:`from_dict` the same way.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PORTS = {"md": 8080, "td": 8081}


class ConfigError(Exception):
    """A bad config file; the message is one line and names the key."""


@dataclass(slots=True)
class Limits:
    """Per-server limits; every one has a default a trader can live with."""

    max_message_bytes: int = 64 * 1024  # larger frames are answered with -400
    max_frame_bytes: int = 4 * 1024 * 1024  # larger frames close the connection (1009)
    requests_per_second: float = 50.0  # per connection; past it: ErrorID -3
    request_burst: int = 100
    max_outstanding: int = 64  # per connection; past it: ErrorID -2
    max_connections: int = 10_000
    max_connections_per_ip: int = 1_000
    max_subscriptions: int = 2_000  # instruments per connection
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    outbox_bytes: int = 8 * 1024 * 1024  # queued non-droppable bytes before a slow client is closed


@dataclass(slots=True)
class TlsConfig:
    certfile: str
    keyfile: str


@dataclass(slots=True)
class ServerConfig:
    """What one server process (md or td) runs with."""

    app_type: str = "td"
    host: str = "127.0.0.1"
    port: int | None = None  # None: the app type's default (md 8080, td 8081); 0: any free
    backend: str = "sim"
    tokens: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)  # client CIDRs; empty allows all
    tls: TlsConfig | None = None
    log_level: str = "info"
    limits: Limits = field(default_factory=Limits)
    backend_settings: dict = field(default_factory=dict)  # the raw section for the adapter
    source: str = ""  # the file this came from, for messages

    def resolved_port(self) -> int:
        return DEFAULT_PORTS[self.app_type] if self.port is None else self.port


def from_dict(cls: type, data: Any, where: str) -> Any:
    """Build dataclass ``cls`` from a mapping, checking keys and value types.

    Unknown keys, missing required keys and wrongly typed values raise ConfigError
    naming the dotted key path (``where`` is the path of ``data`` itself).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {_kind(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{_join(where, str(key))}: unknown key (known: {known})")
    kwargs = {}
    for name, f in fields.items():
        path = _join(where, name)
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{path}: required key is missing")
            continue
        kwargs[name] = _coerce(hints[name], data[name], path)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, path)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{path}: bad value {value!r}")
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, path)
    if origin is list:
        (item,) = typing.get_args(hint) or (Any,)
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {_kind(value)}")
        return [_coerce(item, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {_kind(value)}")
        return value
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{path}: must be one of {', '.join(map(repr, allowed))}")
        return value
    if hint is Any:
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {_kind(value)}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {_kind(value)}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {_kind(value)}")
        return value
    if hint is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)  # BrokerID: 9999 in YAML is an int; CTP wants text
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected text, got {_kind(value)}")
        return value
    return value


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def load(path: str | Path | None, app_type: str | None = None) -> ServerConfig:
    """Read a server config file; ``None`` gives the defaults (sim back end)."""
    raw: dict = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read ({exc.strerror})") from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise ConfigError(f"{source}: {problem}{where}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level")
    return parse(raw, app_type=app_type, source=source)


def parse(raw: dict, app_type: str | None = None, source: str = "") -> ServerConfig:
    """Build a ServerConfig from an already-parsed mapping."""
    from wsbridge.adapters.base import backend_names

    raw = dict(raw)
    backend = raw.get("backend", "sim")
    if not isinstance(backend, str) or backend not in backend_names():
        raise ConfigError(f"backend: must be one of {', '.join(backend_names())}")
    backend_settings = raw.pop(backend, None) or {}
    for other in backend_names():
        if other != backend and other in raw:
            raise ConfigError(f"{other}: section given but backend is {backend!r}")
    try:
        config = from_dict(ServerConfig, raw, "")
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None
    if app_type is not None:
        config.app_type = app_type
    if config.app_type not in DEFAULT_PORTS:
        raise ConfigError(f"{source}: app_type: must be md or td")
    if not isinstance(backend_settings, dict):
        raise ConfigError(f"{source}: {backend}: expected a mapping")
    config.backend_settings = backend_settings
    config.source = source
    return config
