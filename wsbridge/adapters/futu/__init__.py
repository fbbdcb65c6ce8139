"""The Futu OpenD back end (futu-api): HK, US and A-share stocks over CTP's protocol.

Layout, in the nautilus_trader adapter shape:

- ``config``: the ``futu:`` config section (host, port, trd_env, account, unlock, users)
- ``providers``: InstrumentID/ExchangeID <-> Futu code, instrument and market queries
- ``data``: market data (md): QUOTE + ORDER_BOOK pushes -> RtnDepthMarketData
- ``execution``: trading (td): orders, cancels, order/deal pushes, order/trade queries
- ``queries``: the other td queries: positions, funds, instruments, exchanges, depth
- ``connection``: a futu-api context kept connected, its blocking calls run off the loop
- ``parsing``: the pure translations, each tested on its own
- ``sdk``: the only place futu-api is imported

``FutuAdapter`` is imported lazily, so ``parsing`` works without futu-api installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FutuAdapter"]


def __getattr__(name: str) -> Any:
    if name == "FutuAdapter":
        from wsbridge.adapters.futu.adapter import FutuAdapter

        return FutuAdapter
    raise AttributeError(name)
