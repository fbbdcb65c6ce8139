"""Real md and td server processes with ``backend: ctp`` on the CTP stand-in (sim://)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support import ServerProcess

QUERY_INTERVAL = 0.05  # both the front's flow limit and the bridge's pacing, kept short
SIM = {"seed": 31, "tick_interval_ms": 200, "journal": None, "query_interval": QUERY_INTERVAL,
       "outage_seconds": 1.5}


def ctp_config(app: str, **ctp: object) -> dict:
    """A server config for the CTP back end on the stand-in."""
    key = "TdFrontAddress" if app == "td" else "MdFrontAddress"
    section = {key: "sim://", "BrokerID": "9999", "AppID": "wsbridge_test",
               "AuthCode": "0000000000000000", "query_interval": QUERY_INTERVAL,
               "session_linger": 0.0, "sim": dict(SIM), **ctp}
    return {"backend": "ctp", "ctp": section}


def health(server: ServerProcess) -> dict:
    with urllib.request.urlopen(server.http_url + "healthz", timeout=10) as rsp:
        return json.loads(rsp.read())


@pytest.fixture(scope="module")
def ctp_servers(tmp_path_factory):
    """(md, td) on the stand-in, shared by a test module."""
    workdir = tmp_path_factory.mktemp("ctp")
    with ServerProcess("md", ctp_config("md", ConFilePath=str(workdir / "flow")), workdir) as md, \
            ServerProcess("td", ctp_config("td", ConFilePath=str(workdir / "flow")),
                          workdir) as td:
        yield md, td


@pytest.fixture(scope="module")
def td_server(ctp_servers) -> ServerProcess:
    return ctp_servers[1]


@pytest.fixture(scope="module")
def md_server(ctp_servers) -> ServerProcess:
    return ctp_servers[0]
