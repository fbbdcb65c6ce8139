"""The ``ctp:`` section of a server config. Key names of the front are webctp's.

    backend: ctp
    ctp:
      TdFrontAddress: tcp://182.254.243.31:40001   # td server
      MdFrontAddress: tcp://182.254.243.31:40011   # md server
      BrokerID: "9999"
      AppID: simnow_client_test
      AuthCode: "0000000000000000"

A front address ``sim://`` runs the back end against the built-in CTP stand-in (the
embedded sim exchange behind openctp's API shape); its settings go under ``sim:``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from wsbridge.config import ConfigError, from_dict

SIM_SCHEME = "sim://"
SCHEMES = ("tcp://", "ssl://", "socks://", "socks4://", "socks5://", SIM_SCHEME)


@dataclass(slots=True)
class CtpSettings:
    """Everything the CTP back end is configured with."""

    TdFrontAddress: str = ""  # td server: one or more fronts, comma separated
    MdFrontAddress: str = ""  # md server
    BrokerID: str = ""  # used when a client's ReqUserLogin leaves BrokerID empty
    AppID: str = ""  # ReqAuthenticate; empty skips authentication
    AuthCode: str = ""
    UserProductInfo: str = ""
    UserID: str = ""  # md front login (most md fronts accept it empty)
    Password: str = ""
    ConFilePath: str | None = None  # CTP's flow (.con) files; default: a temp directory
    production_mode: bool = True  # CreateFtdc*Api's bIsProductionMode
    resume: Literal["quick", "restart", "resume"] = "quick"  # private/public topic resume
    confirm_settlement: bool = True  # ReqSettlementInfoConfirm after every login
    query_interval: float = 1.0  # seconds between two queries of one CTP session
    max_queued_queries: int = 20  # per CTP session; beyond: ErrorID -2 at once
    connect_timeout: float = 10.0  # waiting for a front connection (login gives ErrorID 8)
    request_timeout: float = 10.0  # waiting for one upstream answer
    order_ack_timeout: float = 5.0  # waiting for an order's first RtnOrder / rejection
    session_linger: float = 30.0  # keep a CTP session after its last client leaves
    sim: dict = field(default_factory=dict)  # the stand-in's settings (sim:// fronts)

    def front(self, app_type: str) -> list[str]:
        """The front addresses of an app ("td" or "md")."""
        raw = self.TdFrontAddress if app_type == "td" else self.MdFrontAddress
        return [a.strip() for a in raw.split(",") if a.strip()]

    def simulated(self, app_type: str) -> bool:
        return self.front(app_type) == [SIM_SCHEME]

    def flow_dir(self, app_type: str, name: str) -> Path:
        """A directory for one CTP API instance's flow files (created), never the cwd."""
        base = Path(self.ConFilePath) if self.ConFilePath else \
            Path(tempfile.gettempdir()) / "wsbridge-ctp"
        path = base / app_type / "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path.mkdir(parents=True, exist_ok=True)
        return path


def parse(data: dict, where: str) -> CtpSettings:
    """Build and check :class:`CtpSettings`; ConfigError names the bad key."""
    settings = from_dict(CtpSettings, data, where)
    for name in ("connect_timeout", "request_timeout", "order_ack_timeout"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{where}.{name}: must be > 0")
    if settings.query_interval < 0:
        raise ConfigError(f"{where}.query_interval: must be >= 0")
    if settings.session_linger < 0:
        raise ConfigError(f"{where}.session_linger: must be >= 0")
    if settings.max_queued_queries < 1:
        raise ConfigError(f"{where}.max_queued_queries: must be >= 1")
    for key in ("TdFrontAddress", "MdFrontAddress"):
        for address in [a.strip() for a in getattr(settings, key).split(",") if a.strip()]:
            if not address.startswith(SCHEMES):
                raise ConfigError(f"{where}.{key}: {address!r} is not a front address "
                                  "(tcp://host:port, ssl://..., or sim:// for the stand-in)")
            if address == SIM_SCHEME and "," in getattr(settings, key):
                raise ConfigError(f"{where}.{key}: sim:// cannot be combined with real fronts")
    if settings.simulated("td") or settings.simulated("md"):
        from wsbridge.simulators.ctp.settings import parse as parse_stand_in

        parse_stand_in(settings.sim, f"{where}.sim")
    elif settings.sim:
        raise ConfigError(f"{where}.sim: only used with a sim:// front address")
    return settings


def check_app(settings: CtpSettings, app_type: str, where: str = "ctp") -> None:
    """The front for this server's app type must be configured."""
    key = "TdFrontAddress" if app_type == "td" else "MdFrontAddress"
    if not settings.front(app_type):
        raise ConfigError(f"{where}.{key}: required for the {app_type} server "
                          "(tcp://host:port of your broker's front, or sim://)")
