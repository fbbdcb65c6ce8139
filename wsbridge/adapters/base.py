"""The interface every back end implements: read this file to add a broker.

An adapter turns CTP-shaped requests (a MsgType plus a dict of CThostFtdc* fields) into
calls on its SDK, and reports what the SDK calls back through the :class:`Sink` the server
hands it. It never sees a websocket, JSON text or another client's connection.

Life cycle, driven by the server::

    adapter = AdapterClass(settings, app_type="td", sink=server_sink)
    await adapter.start()                      # connect upstream (may keep retrying)
    login = await adapter.login(fields, peer)  # one per websocket ReqUserLogin
    reply = await adapter.request(login, req)  # every other request
    await adapter.logout(login)                # websocket gone
    await adapter.stop()

Market data (app_type "md") adds :meth:`Adapter.subscribe` / :meth:`Adapter.unsubscribe`;
the server reference-counts subscriptions, so an adapter sees each instrument subscribed
once however many clients want it, and reports ticks with ``sink.on_tick``.

Errors are :class:`~wsbridge.protocol.errors.CtpError` with the CTP ErrorID for the
situation (see DESIGN.md's table) and the native text kept in ``error_msg``.
"""

from __future__ import annotations

import abc
import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from wsbridge.protocol.messages import Request

__all__ = ["Adapter", "Login", "Reply", "Request", "Sink", "ThreadBridge", "load_adapter"]


class Sink(Protocol):
    """Where an adapter reports what its back end pushes. Implemented by the server.

    Call these on the server's event loop thread; an SDK that calls back on its own
    thread goes through :class:`ThreadBridge` first. ``account`` is the key an adapter
    returned in :attr:`Login.account`; pushes reach every session logged in to it.
    """

    def on_tick(self, depth: dict) -> None:
        """A CThostFtdcDepthMarketDataField dict for a subscribed instrument (md)."""

    def on_order(self, account: str, order: dict) -> None:
        """A CThostFtdcOrderField dict: RtnOrder on every status change (td)."""

    def on_trade(self, account: str, trade: dict) -> None:
        """A CThostFtdcTradeField dict: RtnTrade per fill (td)."""

    def on_push(
        self, account: str | None, msg_type: str, body_key: str | None, body: Any,
        rsp_info: dict | None = None,
    ) -> None:
        """Any other push (ErrRtnOrderInsert, RtnInstrumentStatus, ...).

        ``account`` None sends it to every logged-in session of this server.
        """

    def on_status(self, connected: bool, error_msg: str = "") -> None:
        """Upstream link up/down; clients get FrontConnected / FrontDisconnected (ErrorID 8)."""


@dataclass(slots=True)
class Reply:
    """The answer to a request: one response message per row.

    ``rows`` empty means one response with a null body. ``silent`` means no response at
    all (an accepted ReqOrderInsert / ReqOrderAction answers with RtnOrder pushes only,
    as CTP does). ``error`` becomes the RspInfo; a rejected order typically carries its
    InputOrder as the one row.
    """

    rows: list[dict] = field(default_factory=list)
    error: Any = None  # CtpError | None; Any keeps this module free of imports
    silent: bool = False


@dataclass(slots=True)
class Login:
    """A logged-in client session, as the adapter returned it."""

    account: str  # routing key for pushes: every session with this key gets them
    user_id: str
    fields: dict  # the RspUserLogin body
    state: Any = None  # adapter-private (an upstream session, a sim session, ...)


class Adapter(abc.ABC):
    """A back end. Subclasses set ``name`` and register with :func:`register`."""

    name: ClassVar[str]
    app_types: ClassVar[frozenset[str]] = frozenset({"md", "td"})

    def __init__(self, settings: Any, app_type: str, sink: Sink) -> None:
        self.settings = settings
        self.app_type = app_type
        self.sink = sink

    @classmethod
    @abc.abstractmethod
    def parse_settings(cls, data: dict, where: str) -> Any:
        """Turn the back end's config section into its settings object.

        Raises :class:`wsbridge.config.ConfigError` naming the bad key (``where`` is the
        path of the section in the file, e.g. ``"sim"``).
        """

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect upstream. Returns once running; reconnection is the adapter's job."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect and release everything; must not raise."""

    @abc.abstractmethod
    async def login(self, fields: dict, peer: str) -> Login:
        """Authenticate a client's ReqUserLogin fields; raise CtpError on failure."""

    async def logout(self, login: Login) -> None:  # noqa: B027 - optional hook
        """The client's websocket is gone."""

    @abc.abstractmethod
    async def request(self, login: Login, req: Request) -> Reply:
        """Serve any other request; raise CtpError(-404 / 27) for what is unsupported."""

    async def subscribe(self, instrument_ids: list[str]) -> dict[str, Any]:
        """Start ticks for instruments; returns {id: None or CtpError} (md)."""
        raise NotImplementedError

    async def unsubscribe(self, instrument_ids: list[str]) -> None:
        """Stop ticks for instruments nobody wants any more (md)."""
        raise NotImplementedError

    def supports(self, msg_type: str) -> bool:
        """Whether this back end serves a request type; others get -404."""
        return True

    def health(self) -> dict:
        """A small JSON-able status for /healthz."""
        return {"backend": self.name}


class ThreadBridge:
    """Moves callbacks from an SDK's own thread onto the event loop in batches.

    ``post(fn, *args)`` may be called from any thread; the loop runs every queued call in
    order, one wake-up per batch rather than one ``call_soon_threadsafe`` per message.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: collections.deque[tuple[Callable[..., Any], tuple]] = collections.deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._queue.append((fn, args))
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, collections.deque()
            self._scheduled = False
        for fn, args in batch:
            try:
                fn(*args)
            except Exception:  # one bad callback must not lose the rest of the batch
                logging.getLogger(__name__).exception("callback from SDK thread failed")


_REGISTRY: dict[str, str] = {
    # name -> "module:Class"; imported lazily so a missing SDK breaks only its back end.
    "sim": "wsbridge.adapters.sim:SimAdapter",
    "ctp": "wsbridge.adapters.ctp:CtpAdapter",
    "ib": "wsbridge.adapters.ib:IbAdapter",
    "futu": "wsbridge.adapters.futu:FutuAdapter",
}


def register(name: str, target: str) -> None:
    """Register a back end as ``"package.module:ClassName"``."""
    _REGISTRY[name] = target


def backend_names() -> Iterable[str]:
    return sorted(_REGISTRY)


def load_adapter(name: str) -> type[Adapter]:
    """Import and return the adapter class registered under ``name``."""
    import importlib

    try:
        target = _REGISTRY[name]
    except KeyError:
        raise LookupError(
            f"unknown backend {name!r}; known: {', '.join(backend_names())}"
        ) from None
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)
