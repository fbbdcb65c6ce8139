"""Fixtures for the Futu back end (helpers are in tests/futu/support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def futu():
    """futu-api, imported without its os._exit SIGINT handler."""
    from wsbridge.simulators.opend.protos import import_futu

    module = import_futu()
    module.SysConfig.set_all_thread_daemon(True)
    return module
