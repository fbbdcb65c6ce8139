"""Real md and td server processes on the embedded sim, shared by a test module."""

from __future__ import annotations

import pytest

from tests.support import ServerProcess

SIM = {"seed": 4242, "tick_interval_ms": 200}


def sim_config(tmp_path, **extra) -> dict:
    return {"backend": "sim", "sim": {**SIM, "journal": str(tmp_path / "td.sqlite"), **extra}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(md, td) ServerProcess pair on free ports, same seed so they agree on prices."""
    workdir = tmp_path_factory.mktemp("servers")
    with ServerProcess("md", {"backend": "sim", "sim": dict(SIM)}, workdir) as md, \
            ServerProcess("td", sim_config(workdir), workdir) as td:
        yield md, td


@pytest.fixture(scope="module")
def md_url(servers) -> str:
    return servers[0].url


@pytest.fixture(scope="module")
def td_url(servers) -> str:
    return servers[1].url
