"""One server process: a websocket endpoint in front of one adapter.

The server moves bytes: frames in are handed to a :class:`Session`, frames out leave
through each session's :class:`Outbox`. It knows nothing of any broker; the adapter it
runs is chosen by name from the config.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
import time
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from wsbridge import __version__
from wsbridge.adapters.base import Adapter, load_adapter
from wsbridge.config import ConfigError, ServerConfig
from wsbridge.server.http import Gate
from wsbridge.server.hub import Hub
from wsbridge.server.metrics import Metrics
from wsbridge.server.outbox import FlushScheduler, Outbox
from wsbridge.server.session import Session

log = logging.getLogger("wsbridge.server")

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
SHUTDOWN_GRACE = 5.0  # seconds in-flight requests get to finish on SIGTERM


class BridgeConnection(ServerConnection):
    """websockets' connection, telling its outbox when the transport fills and drains."""

    outbox: Outbox | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.outbox is not None:
            self.outbox.pause()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.outbox is not None:
            self.outbox.resume()


class Server:
    """An md or td server: config in, websocket endpoint out."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.metrics = Metrics(config.app_type)
        self.hub = Hub(self.metrics)
        self.gate = Gate(self)
        self.request_timeout = 30.0
        adapter_class = load_adapter(config.backend)
        if config.app_type not in adapter_class.app_types:
            raise ConfigError(f"backend {config.backend!r} has no {config.app_type} side")
        settings = adapter_class.parse_settings(config.backend_settings, config.backend)
        self.adapter: Adapter = adapter_class(settings, config.app_type, self.hub)
        self.hub.adapter = self.adapter
        self.started = time.time()
        self.per_ip: dict[str, int] = {}
        self._stop: asyncio.Event | None = None
        self._scheduler: FlushScheduler | None = None
        self._background: set[asyncio.Future] = set()
        self.metrics.watch("wsbridge_conflated_quotes", "Quotes replaced before a slow "
                           "client read them", self.hub.conflated)

    # --- admission and health ------------------------------------------------------------

    def admission(self, peer: str) -> str | None:
        """Why a new connection from ``peer`` cannot be taken now, or None."""
        limits = self.config.limits
        if len(self.hub.sessions) >= limits.max_connections:
            return f"server full: {limits.max_connections} connections"
        if self.per_ip.get(peer, 0) >= limits.max_connections_per_ip:
            return f"too many connections from {peer}: limit {limits.max_connections_per_ip}"
        return None

    def health(self) -> dict:
        hub = self.hub
        return {
            "status": "ok" if hub.upstream_connected else "degraded",
            "app_type": self.config.app_type,
            "version": __version__,
            "backend": self.adapter.health(),
            "upstream_connected": hub.upstream_connected,
            "clients": len(hub.sessions),
            "logged_in": sum(len(s) for s in hub.by_account.values()),
            "subscriptions": len(hub.subscribers),
            "conflated_quotes": hub.conflated(),
            "uptime_seconds": round(time.time() - self.started, 1),
        }

    # --- connections ---------------------------------------------------------------------

    async def _handle(self, ws: BridgeConnection) -> None:
        peer = ws.remote_address[0] if ws.remote_address else "?"
        session: Session | None = None

        def overflow(pending: int) -> None:
            reason = f"client too slow: {pending} bytes of events unsent"
            session.log.warning(reason)
            closer = asyncio.ensure_future(ws.close(CLOSE_POLICY, reason))
            self._background.add(closer)
            closer.add_done_callback(self._background.discard)

        outbox = Outbox(ws.transport, self._scheduler, self.config.limits.outbox_bytes,
                        overflow)
        ws.outbox = outbox
        session = Session(self, outbox, f"{peer}:{ws.remote_address[1]}")
        self.hub.add(session)
        self.per_ip[peer] = self.per_ip.get(peer, 0) + 1
        self.metrics.connections.inc()
        self.metrics.connections_total.inc()
        session.log.info("connected from %s", session.peer)
        try:
            async for raw in ws:
                session.on_frame(raw)
        except ConnectionClosed:
            pass
        finally:
            self.metrics.connections.dec()
            left = self.per_ip.get(peer, 1) - 1
            if left:
                self.per_ip[peer] = left
            else:
                self.per_ip.pop(peer, None)
            session.log.info("disconnected (%s %s)", ws.close_code, ws.close_reason or "")
            await session.closed_by_peer()

    # --- running -------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext | None:
        tls = self.config.tls
        if tls is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(tls.certfile, tls.keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"tls: cannot load certificate/key: {exc}") from None
        return context

    def stop(self) -> None:
        """Ask :meth:`run` to shut down cleanly (safe from a signal handler)."""
        if self._stop is not None:
            self._stop.set()

    async def run(self, ready: Callable[[str], None] | None = None) -> None:
        """Serve until :meth:`stop` (or SIGTERM / SIGINT): then drain and exit."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._scheduler = FlushScheduler(loop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread
                loop.add_signal_handler(sig, self.stop)
        config, limits = self.config, self.config.limits
        ssl_context = self._ssl_context()
        await self.adapter.start()
        try:
            server = await serve(
                self._handle, config.host, config.resolved_port(),
                process_request=self.gate.process_request,
                create_connection=BridgeConnection,
                compression=None,  # shared pre-built frames need uncompressed connections
                max_size=limits.max_frame_bytes,
                ping_interval=limits.ping_interval,
                ping_timeout=limits.ping_timeout,
                ssl=ssl_context,
                server_header=f"wsbridge/{__version__}",
            )
        except OSError as exc:
            await self.adapter.stop()
            raise ConfigError(f"cannot listen on {config.host}:{config.resolved_port()}: "
                              f"{exc.strerror or exc}") from None
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if ssl_context else "ws"
        url = f"{scheme}://{_display_host(config.host)}:{port}/"
        log.info("%s server (%s back end) listening on %s", config.app_type,
                 config.backend, url)
        if ready is not None:
            ready(url)
        await self._stop.wait()
        await self._shutdown(server)

    async def _shutdown(self, server) -> None:
        log.info("shutting down")
        server.close(close_connections=False)  # stop accepting; keep current clients
        pending = set().union(*(s.in_flight() for s in self.hub.sessions)) \
            if self.hub.sessions else set()
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
        if self._scheduler is not None:
            self._scheduler.flush_now()  # flush the answers just produced
        closing = [c.close(CLOSE_GOING_AWAY, "server shutting down")
                   for c in server.connections if c.state is State.OPEN]
        if closing:
            await asyncio.wait([asyncio.ensure_future(c) for c in closing], timeout=5)
        await server.wait_closed()
        await self.adapter.stop()
        log.info("stopped")


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
