"""A stand-in for openctp's CTP API objects, on the embedded sim exchange.

:class:`SimTraderApi` and :class:`SimMdApi` have the methods of openctp's
CThostFtdcTraderApi / CThostFtdcMdApi (RegisterSpi, RegisterFront, Init, Release, every
Req*, SubscribeMarketData, ...) and answer by calling the registered SPI's On* methods
with real openctp structs from their own thread, like the real library; text fields carry
GB18030 bytes as a front sends them. So the CTP back end, struct conversion included,
runs against it exactly as against a broker's front.

Use it with the CTP back end by setting a front address to ``sim://``::

    backend: ctp
    ctp:
      TdFrontAddress: sim://
      sim: {query_interval: 1.0, outage_seconds: 3.0, seed: 7}

It enforces CTP's query flow control (a query within ``query_interval`` of the previous one
gets -3), answers a wrong password with ErrorID 3 and CTP's own message, and simulates a
front outage on SIGUSR1 (``kill -USR1 <server pid>``): every connection drops and comes
back ``outage_seconds`` later, with its session gone, as after a real front restart.
"""

from __future__ import annotations

import threading
from typing import Any

from wsbridge.simulators.ctp.front import SimFront
from wsbridge.simulators.ctp.market import SimMdApi
from wsbridge.simulators.ctp.settings import StandInSettings, parse
from wsbridge.simulators.ctp.trader import SimTraderApi

__all__ = ["SimFront", "SimMdApi", "SimTraderApi", "StandInSettings", "create_api", "front",
           "parse"]

_front: SimFront | None = None
_lock = threading.Lock()


def front(data: dict | None = None) -> SimFront:
    """This process's simulated front (created with ``data``, the ``ctp.sim`` mapping)."""
    global _front
    with _lock:
        if _front is None:
            _front = SimFront(parse(data))
        return _front


def create_api(app: str, data: dict | None = None) -> Any:
    """A new stand-in API object for ``app`` ("td" or "md") on this process's front."""
    sim_front = front(data)
    return SimTraderApi(sim_front) if app == "td" else SimMdApi(sim_front)
