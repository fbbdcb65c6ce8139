"""Interactive Brokers back end: TWS / IB Gateway through ib-insync (or ib_async).

    backend: ib
    ib: {host: 127.0.0.1, port: 7497, client_id: 2, users: [{user_id: u, password: p}]}

Layout: config (the ``ib:`` section), connection (connect / reconnect / link status),
providers (InstrumentID <-> qualified IB contract), data (md: reqMktData -> ticks),
execution (td: orders, order events -> pushes), queries (td queries), parsing/ (pure
CTP <-> IB translation).
See docs/ib.md for the mapping tables and the sim-tws simulator.
"""

from wsbridge.adapters.ib.adapter import IbAdapter

__all__ = ["IbAdapter"]
