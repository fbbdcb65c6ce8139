"""One ib-insync connection to TWS / IB Gateway, kept up for the life of the server.

It connects on the server's event loop (ib-insync's async API, no threads), reports the
link to the sink (FrontConnected / FrontDisconnected with ErrorID 8), reconnects with a
doubling back-off when TWS goes away (its daily restart included) and calls ``on_ready``
after every (re)connect so the data and execution sides can restore their state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from wsbridge.adapters.base import Sink
from wsbridge.adapters.ib.config import IbSettings
from wsbridge.adapters.ib.parsing import errors as ib_errors
from wsbridge.adapters.ib.sdk import IB, RequestError
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError

log = logging.getLogger("wsbridge.ib")


class Connection:
    """The IB object plus its link state; ``call`` turns IB failures into CtpErrors."""

    def __init__(self, settings: IbSettings, sink: Sink,
                 on_ready: Callable[[bool], Awaitable[None]],
                 on_data_lost: Callable[[], Awaitable[None]] | None = None) -> None:
        self.settings = settings
        self.sink = sink
        self.ib = IB()
        self.ib.RaiseRequestErrors = True  # failed requests raise RequestError(code, text)
        self.account = settings.account
        self.ready = False  # connected, synchronised and restored
        self.connects = 0
        self._on_ready = on_ready
        self._on_data_lost = on_data_lost
        self._lost = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._last_error = ""
        self._background: set[asyncio.Task] = set()
        self.ib.disconnectedEvent += self._disconnected
        self.ib.errorEvent += self._error

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Try to connect once; keep trying in the background whatever the outcome."""
        loop = asyncio.get_running_loop()
        # ib-insync and eventkit ask the policy for "the" loop; under a loop factory
        # (uvloop's runner) that is not the running one unless it is set.
        asyncio.set_event_loop(loop)
        first: asyncio.Future = loop.create_future()
        self._task = asyncio.ensure_future(self._run(first))
        await first

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.ready = False
        self.ib.disconnect()

    async def _run(self, first: asyncio.Future) -> None:
        settings = self.settings
        delay = settings.reconnect_min
        while True:
            problem = await self._connect()
            if not first.done():
                first.set_result(None)
            if problem is None:
                delay = settings.reconnect_min
                await self._lost.wait()
                self._lost.clear()
                self.ready = False
                self.sink.on_status(False, f"connection to TWS at {settings.host}:"
                                    f"{settings.port} lost; reconnecting")
                continue
            log.warning("%s; retrying in %.3gs", problem, delay)
            self.sink.on_status(False, problem)
            await asyncio.sleep(delay)
            delay = min(delay * 2, settings.reconnect_max)

    async def _connect(self) -> str | None:
        """One attempt: None when connected and restored, else what went wrong."""
        s = self.settings
        self._last_error = ""
        self._lost.clear()
        try:
            await self.ib.connectAsync(s.host, s.port, clientId=s.client_id,
                                       timeout=s.connect_timeout, readonly=s.readonly,
                                       account=s.account)
        except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
            self.ib.disconnect()
            why = self._last_error or str(exc) or type(exc).__name__
            return f"cannot connect to TWS at {s.host}:{s.port} as client {s.client_id}: {why}"
        accounts = self.ib.managedAccounts()
        account = s.account or (accounts[0] if len(accounts) == 1 else "")
        if not account or account not in accounts:
            self.ib.disconnect()
            return (f"TWS manages accounts {', '.join(accounts) or '(none)'}: set ib.account "
                    "to one of them" if not account else
                    f"account {account} is not managed by this TWS "
                    f"(it manages {', '.join(accounts) or 'none'})")
        self.account = account
        if s.market_data_type != 1:
            self.ib.reqMarketDataType(s.market_data_type)
        self.ready = True
        try:
            await self._on_ready(self.connects == 0)
        except CtpError as exc:  # e.g. the link dropped while restoring
            log.warning("restoring state after connect failed: %s", exc)
        self.connects += 1
        if not self.ready:  # lost again while restoring
            return "connection to TWS lost while restoring state"
        log.info("connected to TWS %s:%s as client %s, server version %s, account %s",
                 s.host, s.port, s.client_id, self.ib.client.serverVersion(), account)
        self.sink.on_status(True, f"connected to TWS at {s.host}:{s.port}, account {account}")
        return None

    # --- ib-insync events ----------------------------------------------------------------

    def _disconnected(self) -> None:
        if self.ready:
            self.ready = False
            self._lost.set()

    def _error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        if req_id != -1:
            return
        self._last_error = f"IB {code}: {text}"
        if code in ib_errors.LINK_LOST:
            self.sink.on_status(False, self._last_error)
        elif code in (ib_errors.LINK_RESTORED, ib_errors.LINK_RESTORED_DATA_LOST) \
                and self.ready:
            self.sink.on_status(True, self._last_error)
            if code == ib_errors.LINK_RESTORED_DATA_LOST and self._on_data_lost is not None:
                task = asyncio.ensure_future(self._on_data_lost())
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    # --- requests ------------------------------------------------------------------------

    def require(self) -> IB:
        """The IB object, or CtpError 8 while TWS is not connected."""
        if not self.ready or not self.ib.isConnected():
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           f"CTP:Front not active: not connected to TWS at "
                           f"{self.settings.host}:{self.settings.port}")
        return self.ib

    async def call(self, fn: Callable[..., Awaitable[Any]], *args: Any,
                   timeout: float | None = None) -> Any:
        """Run one ib-insync request; IB errors, disconnects and timeouts become CtpErrors."""
        self.require()
        timeout = timeout or self.settings.request_timeout
        try:
            return await asyncio.wait_for(fn(*args), timeout)
        except RequestError as exc:
            raise ib_errors.ib_error(exc.code, exc.message) from None
        except ConnectionError:
            raise CtpError(errors.FRONT_NOT_ACTIVE,
                           "CTP:Front not active: TWS connection lost") from None
        except asyncio.TimeoutError:
            raise CtpError(errors.REQUEST_FAILED,
                           f"no answer from TWS within {timeout:g}s") from None
