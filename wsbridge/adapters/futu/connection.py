"""Keeping a futu-api context connected to OpenD, and running its blocking calls.

futu-api reconnects by itself once a context exists: it re-subscribes quotes, re-unlocks
trading and re-subscribes account pushes, then calls ``on_api_socket_reconnected``. A
:class:`Link` makes the first connection (waiting for OpenD with back-off, since a
context's constructor would otherwise block), hooks the context's disconnect / reconnect
callbacks to report the link state on the event loop, spaces futu-api's own retries with
the same back-off, and runs every blocking call in a worker thread with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from wsbridge.adapters.base import ThreadBridge
from wsbridge.adapters.futu import sdk
from wsbridge.adapters.futu.config import FutuSettings
from wsbridge.adapters.futu.parsing.errors import to_ctp_error
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.futu")


def in_daemon_thread(name: str, fn: Callable[..., Any], *args: Any,
                     **kwargs: Any) -> asyncio.Future:
    """Run a blocking call in a daemon thread; its result as a future of the running loop.

    Daemon threads, not an executor: a futu-api call can block for as long as OpenD takes
    (a context constructor, forever), and must never keep a stopping process alive.
    """
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def run() -> None:
        try:
            outcome = (True, fn(*args, **kwargs))
        except BaseException as exc:
            outcome = (False, exc)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class Backoff:
    """Delays that double from ``first`` up to ``most``; thread-safe; reset on success."""

    def __init__(self, first: float, most: float) -> None:
        self.first, self.most = first, most
        self._next = first
        self._lock = threading.Lock()

    def next(self) -> float:
        with self._lock:
            delay, self._next = self._next, min(self._next * 2, self.most)
            return delay

    def reset(self) -> None:
        with self._lock:
            self._next = self.first


def hooked(base: type, link: Link) -> type:
    """A subclass of futu context class ``base`` that reports to ``link``."""
    futu = sdk.load()
    from futu.common.network_manager import CloseReason

    class Hooked(base):  # type: ignore[misc, valid-type]
        def on_disconnect(self, conn_id, reason, msg):  # futu's network thread
            super().on_disconnect(conn_id, reason, msg)
            if reason is not CloseReason.Close:
                link.lost(f"OpenD connection lost ({reason.name}{': ' + msg if msg else ''})")

        def on_api_socket_reconnected(self):  # after futu-api re-subscribed / re-unlocked
            ret, msg = super().on_api_socket_reconnected()
            if ret != futu.RET_OK:
                log.warning("%s: restoring state after reconnect failed: %s", link.name, msg)
            link.restored()
            return ret, msg

        def _wait_reconnect(self, wait_reconnect_interval=6):
            # futu-api waits a fixed 6 s between attempts; use the configured back-off.
            delay = link.backoff.next() if wait_reconnect_interval else 0
            super()._wait_reconnect(delay)

    Hooked.__name__ = f"Bridge{base.__name__}"
    return Hooked


class Link:
    """One futu-api context (quote or trade) and whether it is usable now."""

    def __init__(self, name: str, settings: FutuSettings, bridge: ThreadBridge,
                 make: Callable[[Link], Any], on_change: Callable[[Link], None]) -> None:
        self.name = name
        self.settings = settings
        self.backoff = Backoff(settings.reconnect_delay, settings.reconnect_max_delay)
        self._bridge = bridge
        self._make = make  # builds the context (blocking); called in a worker thread
        self._on_change = on_change
        self.ctx: Any = None
        self.connected = False
        self.reason = "not connected to OpenD yet"
        self._task: asyncio.Task | None = None
        self._stopping = False
        self.settled = asyncio.Event()  # the first attempt connected, or found no OpenD

    # --- life cycle (event loop) ---------------------------------------------------------

    def start(self) -> None:
        """Begin connecting (until the first connection; futu-api reconnects after that)."""
        self._task = asyncio.get_running_loop().create_task(self._first_connect())

    async def _first_connect(self) -> None:
        host, port = self.settings.host, self.settings.port
        backoff = Backoff(self.settings.reconnect_delay, self.settings.reconnect_max_delay)
        while not self._stopping:
            try:  # a cheap probe first: a context constructor retries forever, 6 s apart
                _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
                writer.close()
            except (OSError, TimeoutError) as exc:
                self._set(False, f"cannot reach OpenD at {host}:{port}: "
                          f"{getattr(exc, 'strerror', None) or exc or 'timeout'}")
                self.settled.set()
                await asyncio.sleep(backoff.next())
                continue
            try:
                ctx = await self._in_thread(self._make, self, timeout=None)
            except Exception as exc:  # e.g. no such account: retried, but said loudly
                self._set(False, f"setting up the {self.name} context failed: {exc}")
                self.settled.set()
                await asyncio.sleep(backoff.next())
                continue
            if self._stopping:
                await self._in_thread(ctx.close, timeout=10)
                return
            self.ctx = ctx
            ctx.set_sync_query_connect_timeout(self.settings.request_timeout)
            self._set(True, "")
            self.settled.set()
            return

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
        ctx, self.ctx = self.ctx, None
        if ctx is not None:
            try:
                await self._in_thread(ctx.close, timeout=10)
            except Exception:
                log.exception("%s: closing the futu-api context failed", self.name)

    # --- futu-api callbacks (its threads) -------------------------------------------------

    def lost(self, reason: str) -> None:
        self._bridge.post(self._set, False, reason)

    def restored(self) -> None:
        self.backoff.reset()
        self._bridge.post(self._set, True, "")

    def _set(self, connected: bool, reason: str) -> None:
        if self._stopping:
            return
        if self.ctx is None and connected:
            return  # the constructor's own first connect; _first_connect reports it
        changed = connected != self.connected or reason != self.reason
        self.connected, self.reason = connected, reason
        if changed:
            if connected:
                log.info("%s: connected to OpenD %s:%s", self.name, self.settings.host,
                         self.settings.port)
            else:
                log.warning("%s: %s", self.name, reason)
            self._on_change(self)

    # --- blocking calls -------------------------------------------------------------------

    async def _in_thread(self, fn: Callable[..., Any], *args: Any,
                         timeout: float | None = 0.0, **kwargs: Any) -> Any:
        future = in_daemon_thread(f"futu-{self.name}", fn, *args, **kwargs)
        if timeout == 0.0:
            timeout = self.settings.request_timeout
        if timeout is None:
            return await future
        return await asyncio.wait_for(future, timeout)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``ctx.<method>(*args, **kwargs)`` in a worker thread; its data, or CtpError.

        A futu-api failure ``(ret != RET_OK, text)`` becomes the mapped CtpError; while
        OpenD is unreachable the answer is ErrorID 8 at once.
        """
        ctx = self.ctx
        if ctx is None or not self.connected:
            raise CtpError(errors.FRONT_NOT_ACTIVE, detail=self.reason)
        try:
            ret, data = await self._in_thread(getattr(ctx, method), *args, **kwargs)
        except TimeoutError:
            raise CtpError(errors.REQUEST_FAILED,
                           detail=f"OpenD did not answer {method} within "
                           f"{self.settings.request_timeout:g}s") from None
        if ret != 0:
            if not self.connected:
                raise CtpError(errors.FRONT_NOT_ACTIVE, detail=f"{self.reason}: {data}")
            raise to_ctp_error(data)
        return data
