"""The simulated CTP front of one process: the sim exchange behind a lock, the market
clock, the API objects connected to it, outages and CTP's query flow control.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import TYPE_CHECKING

from wsbridge.simulators.ctp.settings import StandInSettings
from wsbridge.simulators.exchange import Event, Exchange

if TYPE_CHECKING:
    from wsbridge.simulators.ctp.api import SimApi

log = logging.getLogger("wsbridge.ctp.stand-in")

DISCONNECT_REASON = 0x1001  # CTP's "network read failure"


class SimFront:
    """What a CTP front is to its API objects, in process."""

    def __init__(self, settings: StandInSettings) -> None:
        self.settings = settings
        self.lock = threading.RLock()  # the exchange is single-threaded
        self._exchange: Exchange | None = None
        self.apis: set[SimApi] = set()
        self.up = True
        self.outages = 0
        self.flow_rejections = 0  # queries refused with -3: the bridge should cause none
        self._stop = threading.Event()
        self._clock: threading.Thread | None = None

    # --- the exchange and the market clock -----------------------------------------------

    def exchange(self, app: str) -> Exchange:
        """The exchange (created on first use; only a td front journals its state)."""
        with self.lock:
            if self._exchange is None:
                journal = self.settings.exchange.journal if app == "td" else None
                self._exchange = Exchange(self.settings.exchange, journal)
            if self._clock is None:
                self._clock = threading.Thread(target=self._run_clock, name="ctp-sim-clock",
                                               daemon=True)
                self._clock.start()
            return self._exchange

    def _run_clock(self) -> None:
        """Every market bucket: match resting orders, push their events, send ticks."""
        tick = self.settings.exchange.tick_interval_ms / 1000
        while not self._stop.wait(tick - time.time() % tick):
            try:
                with self.lock:
                    exchange = self._exchange
                    if exchange is None:
                        continue
                    now = time.time()
                    self.deliver(exchange.advance(now))
                    for api in list(self.apis):
                        api.on_clock(now)
            except Exception:  # one bad round must not stop the market
                log.exception("stand-in market round failed")

    def deliver(self, events: list[Event]) -> None:
        """Exchange pushes go to every API object logged in to the event's account."""
        with self.lock:
            for event in events:
                for api in list(self.apis):
                    if api.account == event.account:
                        api.push(event)

    # --- API objects ---------------------------------------------------------------------

    def attach(self, api: SimApi) -> None:
        with self.lock:
            self.apis.add(api)

    def detach(self, api: SimApi) -> None:
        with self.lock:
            self.apis.discard(api)

    # --- outages -------------------------------------------------------------------------

    def outage(self, seconds: float | None = None) -> None:
        """Drop every connection now; the APIs reconnect after ``seconds``, as CTP's do."""
        seconds = self.settings.front.outage_seconds if seconds is None else seconds
        with self.lock:
            if not self.up:
                return
            self.up = False
            self.outages += 1
            apis = list(self.apis)
        log.warning("stand-in front: outage for %gs", seconds)
        for api in apis:
            api.drop(DISCONNECT_REASON)
        timer = threading.Timer(seconds, self._restore)
        timer.daemon = True
        timer.start()

    def _restore(self) -> None:
        with self.lock:
            self.up = True
            apis = list(self.apis)
        log.warning("stand-in front: back up")
        for api in apis:
            api.reconnect()

    def install_signal(self) -> None:
        """SIGUSR1 starts an outage (``kill -USR1 <server pid>``); main thread only."""
        sig = getattr(signal, "SIGUSR1", None)
        if sig is None or threading.current_thread() is not threading.main_thread():
            return
        signal.signal(sig, lambda *_: threading.Thread(target=self.outage, daemon=True).start())

    def health(self) -> dict:
        with self.lock:
            subscribed = sum(len(getattr(api, "subscribed", ())) for api in self.apis)
            sessions = sum(1 for api in self.apis if api.account is not None)
        return {"up": self.up, "outages": self.outages, "flow_rejections": self.flow_rejections,
                "logged_in": sessions, "md_subscriptions": subscribed}

    def close(self) -> None:
        self._stop.set()
        with self.lock:
            if self._exchange is not None:
                self._exchange.close()
                self._exchange = None
