"""The ``ib:`` section of a server config (keys documented in docs/ib.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wsbridge.adapters.ib.parsing.contracts import ContractTable
from wsbridge.config import ConfigError, from_dict


@dataclass(slots=True)
class IbUser:
    """A websocket login the bridge accepts (TWS itself is logged in on its own)."""

    user_id: str
    password: str


@dataclass(slots=True)
class IbSettings:
    host: str = "127.0.0.1"
    port: int = 7497  # TWS paper; 7496 TWS live, 4002 / 4001 IB Gateway paper / live
    client_id: int = 1  # unique per connection to one TWS: md and td need different ids
    account: str = ""  # "" = the only account TWS manages
    users: list[IbUser] = field(default_factory=list)
    broker_id: str = "IB"  # BrokerID in every CTP body
    market_data_type: int = 1  # 1 live, 2 frozen, 3 delayed, 4 delayed frozen
    connect_timeout: float = 10.0  # seconds for the API handshake and initial sync
    request_timeout: float = 10.0  # seconds for one IB request (contract details, ...)
    order_timeout: float = 5.0  # seconds ReqOrderInsert waits for TWS's first answer
    reconnect_min: float = 1.0  # back-off between reconnect attempts, doubling up to max
    reconnect_max: float = 30.0
    readonly: bool = False  # connect read-only: no orders
    contracts: dict = field(default_factory=dict)  # InstrumentID -> contract fields


def parse(data: dict, where: str) -> IbSettings:
    settings: IbSettings = from_dict(IbSettings, data, where)
    if not settings.users:
        raise ConfigError(f"{where}.users: list at least one {{user_id, password}} that "
                          "may log in (TWS has its own login; the bridge checks these)")
    if not 0 <= settings.client_id < 2**31:
        raise ConfigError(f"{where}.client_id: must be a non-negative integer")
    if settings.market_data_type not in (1, 2, 3, 4):
        raise ConfigError(f"{where}.market_data_type: must be 1, 2, 3 or 4")
    if not 0 < settings.reconnect_min <= settings.reconnect_max:
        raise ConfigError(f"{where}.reconnect_min: must be > 0 and <= reconnect_max")
    for key in ("connect_timeout", "request_timeout", "order_timeout"):
        if getattr(settings, key) <= 0:
            raise ConfigError(f"{where}.{key}: must be > 0")
    for instrument, spec in settings.contracts.items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}.contracts.{instrument}: expected a mapping")
        try:
            ContractTable.from_config({instrument: spec})
        except TypeError as exc:
            raise ConfigError(f"{where}.contracts.{instrument}: {exc}") from None
    return settings
