"""The ``sim:`` config section: :class:`SimSettings` (defined with the engine it configures).

Keys and defaults (an empty section is fine)::

    sim:
      seed: 1                    # same seed, same market, in every process
      tick_interval_ms: 500      # one market bucket = one md tick
      initial_funds: 10000000    # per currency, for each new account
      broker_id: "9999"          # used when a login leaves BrokerID empty
      front_id: 1
      journal: var/sim.sqlite    # td state (SQLite, WAL); null keeps it in memory
      utc_offset_minutes: null   # trading-day zone; null: the host's local time
      contract_months: 2         # futures contracts listed per product
      extra_instruments: 0       # SIM0001.. synthetic instruments for load tests
      require_settlement_confirm: false
      max_catchup_buckets: 120
      instruments:               # per product overrides / additions / null removes
        rb: {price: 3500, margin: 0.12}
        AAPL: null
        NVDA: {kind: stock, exchange: NASDAQ, currency: USD, price: 120, tick: 0.01}
"""

from __future__ import annotations

from wsbridge.config import from_dict
from wsbridge.simulators.exchange.settings import ProductSpec, SimSettings, check_settings

__all__ = ["ProductSpec", "SimSettings", "parse_settings"]


def parse_settings(data: dict | None, where: str = "sim") -> SimSettings:
    """Build and check SimSettings; ConfigError names the bad key under ``where``."""
    return check_settings(from_dict(SimSettings, data, where), where)
