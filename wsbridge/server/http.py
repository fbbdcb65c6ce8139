"""Plain HTTP on the websocket port, and the checks made before any upgrade.

``GET /`` and the files under web/ serve the browser page; ``/healthz`` and
``/metrics`` report on the server. A websocket upgrade (on any path) is let through
only from an allowed address, with a valid token when tokens are configured, and while
the connection limits have room.
"""

from __future__ import annotations

import hmac
import http
import ipaddress
import mimetypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from wsbridge.server.metrics import CONTENT_TYPE as METRICS_TYPE

if TYPE_CHECKING:
    from wsbridge.server.app import Server

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")


def web_dir() -> Path:
    """Where the browser page lives: $WSBRIDGE_WEB, else web/ next to the package."""
    env = os.environ.get("WSBRIDGE_WEB")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "web"


def respond(status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
            extra: list[tuple[str, str]] | None = None) -> Response:
    headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body))),
                       ("Cache-Control", "no-cache"), *(extra or [])])
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def bearer_token(request: Request) -> str | None:
    """The token a client offers: ``Authorization: Bearer ...`` or ``?token=`` (browsers)."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    values = parse_qs(urlsplit(request.path).query).get("token")
    return values[0] if values else None


def token_ok(offered: str | None, tokens: list[str]) -> bool:
    """Constant-time comparison against every configured token."""
    if offered is None:
        return False
    given = offered.encode()
    ok = False
    for token in tokens:
        ok |= hmac.compare_digest(given, token.encode())
    return ok


class Gate:
    """Everything the server decides before a request reaches a handler."""

    def __init__(self, server: Server) -> None:
        self.server = server
        config = server.config
        self.tokens = list(config.tokens)
        self.networks = [ipaddress.ip_network(c, strict=False) for c in config.allow]
        self.web = web_dir()
        self.routes: dict[str, Callable[[], Response]] = {
            "/healthz": self._health,
            "/metrics": self._metrics,
        }

    def allowed(self, host: str) -> bool:
        if not self.networks:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in net for net in self.networks)

    def process_request(self, connection, request: Request) -> Response | None:
        """websockets' hook: a Response ends the exchange, None continues the upgrade."""
        metrics = self.server.metrics
        peer = connection.remote_address[0] if connection.remote_address else ""
        if not self.allowed(peer):
            metrics.refused.labels("address").inc()
            return respond(403, b"address not allowed\n")
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return self._http(request)
        if self.tokens and not token_ok(bearer_token(request), self.tokens):
            metrics.refused.labels("token").inc()
            return respond(401, b"missing or invalid access token\n",
                           extra=[("WWW-Authenticate", 'Bearer realm="wsbridge"')])
        problem = self.server.admission(peer)
        if problem:
            metrics.refused.labels("limit").inc()
            return respond(503, problem.encode() + b"\n", extra=[("Retry-After", "5")])
        return None

    def _http(self, request: Request) -> Response:
        path = urlsplit(request.path).path
        route = self.routes.get(path)
        if route is not None:
            return route()
        return self._static(path)

    def _health(self) -> Response:
        return respond(200, orjson.dumps(self.server.health(), option=orjson.OPT_INDENT_2),
                       "application/json")

    def _metrics(self) -> Response:
        return respond(200, self.server.metrics.render(), METRICS_TYPE)

    def _static(self, path: str) -> Response:
        relative = "index.html" if path in ("", "/") else path.lstrip("/")
        root = self.web.resolve()
        target = (root / relative).resolve()
        if root not in target.parents or not target.is_file():
            return respond(404, b"not found\n")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        extra = []
        if kind == "text/javascript":
            # Module scripts are fetched with CORS: let pages from elsewhere import ours.
            extra.append(("Access-Control-Allow-Origin", "*"))
        if kind.startswith("text/") or kind == "application/json":
            kind += "; charset=utf-8"
        return respond(200, target.read_bytes(), kind, extra)
