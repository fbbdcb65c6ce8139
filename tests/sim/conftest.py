"""Fixtures for the simulated exchange: a fake clock, an exchange, a logged-in session."""

from __future__ import annotations

import pytest

from wsbridge.simulators.exchange import Exchange

from .helpers import FakeClock, make_settings


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ex(clock):
    exchange = Exchange(make_settings(), clock=clock)
    yield exchange
    exchange.close()


@pytest.fixture
def session(ex):
    return ex.login("9999", "alice", "secret")
