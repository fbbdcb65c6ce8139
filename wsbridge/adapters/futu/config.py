"""The ``futu:`` section of a server config.

::

    backend: futu
    futu:
      host: 127.0.0.1          # where OpenD listens
      port: 11111
      trd_env: SIMULATE        # or REAL (then an unlock password and users are required)
      trd_market: HK           # account filter: HK, US, CN, HKCC or NONE
      acc_id: 0                # 0: the first account of trd_env
      unlock_password: "..."   # or unlock_password_md5: 32 hex digits; never logged
      users: {alice: secret}   # websocket logins; empty accepts any (SIMULATE only)

OpenD has no per-client login, so the bridge checks the websocket ReqUserLogin itself
(ErrorID 3 on a mismatch) against ``users``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from wsbridge.config import ConfigError, from_dict

CURRENCIES = ("HKD", "USD", "CNH", "JPY", "SGD", "AUD", "CAD", "MYR")
MARKET_CURRENCY = {"HK": "HKD", "US": "USD", "CN": "CNH", "HKCC": "CNH", "NONE": "HKD"}
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass(slots=True)
class FutuConfig:
    """The section as written in the file (checked by :func:`parse`)."""

    host: str = "127.0.0.1"
    port: int = 11111
    trd_env: Literal["SIMULATE", "REAL"] = "SIMULATE"
    trd_market: Literal["HK", "US", "CN", "HKCC", "NONE"] = "HK"
    acc_id: int = 0
    security_firm: str = ""  # futu-api's SecurityFirm name; "" keeps futu-api's default
    unlock_password: str | None = field(default=None, repr=False)
    unlock_password_md5: str | None = field(default=None, repr=False)
    users: dict = field(default_factory=dict, repr=False)
    broker_id: str = "futu"
    front_id: int = 1
    currency: str = ""  # funds currency; "" follows trd_market
    markets: list[str] = field(default_factory=lambda: ["HK", "US", "SH", "SZ"])
    reconnect_delay: float = 1.0  # first wait before reconnecting to OpenD (seconds)
    reconnect_max_delay: float = 30.0  # the back-off doubles up to this
    request_timeout: float = 20.0  # one futu-api call


@dataclass(slots=True)
class FutuSettings:
    """What the adapter runs with: the config, checked, with the password as its MD5."""

    host: str
    port: int
    trd_env: str
    trd_market: str
    acc_id: int
    security_firm: str
    unlock_md5: str | None = field(repr=False)
    users: dict[str, str] = field(repr=False)
    broker_id: str
    front_id: int
    currency: str
    markets: list[str]
    reconnect_delay: float
    reconnect_max_delay: float
    request_timeout: float

    def __repr__(self) -> str:  # the password and users never reach a log line
        return (f"FutuSettings(host={self.host!r}, port={self.port}, trd_env={self.trd_env}, "
                f"trd_market={self.trd_market}, acc_id={self.acc_id}, "
                f"unlock={'set' if self.unlock_md5 else 'unset'}, users={len(self.users)})")


def password_md5(password: str) -> str:
    """The lowercase hex MD5 of a password, the form OpenD's unlock expects."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def parse(data: dict, where: str = "futu") -> FutuSettings:
    """Check the ``futu:`` section; ConfigError naming the key on any problem."""
    raw: FutuConfig = from_dict(FutuConfig, data, where)

    def bad(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}.{key}: {problem}")

    if not raw.host:
        raise bad("host", "must not be empty")
    if not 1 <= raw.port <= 65535:
        raise bad("port", "must be 1..65535")
    if raw.acc_id < 0:
        raise bad("acc_id", "must be >= 0")
    if raw.unlock_password is not None and raw.unlock_password_md5 is not None:
        raise bad("unlock_password", "give unlock_password or unlock_password_md5, not both")
    unlock = None
    if raw.unlock_password is not None:
        if not raw.unlock_password:
            raise bad("unlock_password", "must not be empty")
        unlock = password_md5(raw.unlock_password)
    elif raw.unlock_password_md5 is not None:
        if not _MD5.match(raw.unlock_password_md5):
            raise bad("unlock_password_md5", "must be 32 hexadecimal digits")
        unlock = raw.unlock_password_md5.lower()
    users: dict[str, str] = {}
    for user, password in raw.users.items():
        if not isinstance(password, (str, int)) or isinstance(password, bool):
            raise bad(f"users.{user}", "expected the password as text")
        users[str(user)] = str(password)
    if raw.trd_env == "REAL":
        if unlock is None:
            raise bad("unlock_password", "required when trd_env is REAL (OpenD unlocks real "
                      "trading with it)")
        if not users:
            raise bad("users", "required when trd_env is REAL: who may trade this account")
    currency = raw.currency.upper() or MARKET_CURRENCY[raw.trd_market]
    if currency == "CNY":
        currency = "CNH"
    if currency not in CURRENCIES:
        raise bad("currency", f"must be one of {', '.join(CURRENCIES)}")
    for i, market in enumerate(raw.markets):
        if market not in ("HK", "US", "SH", "SZ"):
            raise bad(f"markets[{i}]", "must be HK, US, SH or SZ")
    if raw.front_id < 0:
        raise bad("front_id", "must be >= 0")
    if not 0 < raw.reconnect_delay <= raw.reconnect_max_delay:
        raise bad("reconnect_delay", "must be > 0 and at most reconnect_max_delay")
    if raw.request_timeout <= 0:
        raise bad("request_timeout", "must be > 0")
    return FutuSettings(
        host=raw.host, port=raw.port, trd_env=raw.trd_env, trd_market=raw.trd_market,
        acc_id=raw.acc_id, security_firm=raw.security_firm.upper(), unlock_md5=unlock,
        users=users, broker_id=raw.broker_id, front_id=raw.front_id, currency=currency,
        markets=list(raw.markets), reconnect_delay=raw.reconnect_delay,
        reconnect_max_delay=raw.reconnect_max_delay, request_timeout=raw.request_timeout,
    )
