"""The stand-in's settings: the ``sim:`` mapping under ``ctp:`` when a front is ``sim://``.

    ctp:
      TdFrontAddress: sim://
      sim:
        query_interval: 1.0     # the front's flow control: a faster query gets -3
        outage_seconds: 3.0     # kill -USR1 <pid> drops the front this long
        auth_code: null         # set to make ReqAuthenticate check AuthCode
        seed: 1                 # ... and every key of the sim exchange (see docs/sim.md)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from wsbridge.config import ConfigError, from_dict
from wsbridge.simulators.exchange.settings import SimSettings, check_settings


@dataclass(slots=True)
class FrontSettings:
    """How the simulated CTP front behaves (as opposed to the exchange behind it)."""

    query_interval: float = 1.0
    outage_seconds: float = 3.0
    auth_code: str | None = None
    connect_delay: float = 0.05  # from Init() to OnFrontConnected


@dataclass(slots=True)
class StandInSettings:
    front: FrontSettings
    exchange: SimSettings


def parse(data: dict | None, where: str = "ctp.sim") -> StandInSettings:
    """Split the mapping into front and exchange keys; ConfigError names a bad key."""
    data = dict(data or {})
    own = {f.name for f in fields(FrontSettings)}
    front = from_dict(FrontSettings, {k: v for k, v in data.items() if k in own}, where)
    for name in ("query_interval", "outage_seconds", "connect_delay"):
        if getattr(front, name) < 0:
            raise ConfigError(f"{where}.{name}: must be >= 0")
    rest = {k: v for k, v in data.items() if k not in own}
    exchange = check_settings(from_dict(SimSettings, rest, where), where)
    return StandInSettings(front, exchange)
