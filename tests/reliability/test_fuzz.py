"""Thousands of random and malformed frames: each answered, the server stays healthy."""

from __future__ import annotations

import itertools
import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from tests.support import ServerProcess
from wsbridge.protocol import catalog

TD_REQUESTS = catalog.requests("td")
SENTINEL = itertools.count(1_000_000)


@pytest.fixture(scope="module")
def td(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    config = {"backend": "sim", "sim": {"seed": 9},
              "limits": {"requests_per_second": 1e6, "request_burst": 1_000_000}}
    with ServerProcess("td", config, workdir) as server:
        yield server


@pytest.fixture(scope="module")
def socket(td):
    with connect(td.url, max_size=None) as ws:
        ws.send(orjson.dumps({"MsgType": "ReqUserLogin", "RequestID": 1,
                              "ReqUserLogin": {"UserID": "fuzzer", "Password": "pw"}}).decode())
        assert orjson.loads(ws.recv())["RspInfo"]["ErrorID"] == 0
        yield ws


scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False) | st.text(max_size=100))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4)
                           | st.dictionaries(st.text(max_size=20), c, max_size=4), max_leaves=10)


@st.composite
def near_valid(draw) -> str:
    """A real MsgType with a body of real and unreal field names and random values."""
    msg_type = draw(st.sampled_from(TD_REQUESTS))
    spec = catalog.message("td", msg_type)
    names = sorted(catalog.fields(spec.struct)) if spec.struct else []
    keys = st.sampled_from([*names, "Bogus"]) if names else st.text(max_size=10)
    body = draw(st.dictionaries(keys, scalars, max_size=5))
    msg = {"MsgType": msg_type, spec.body or "Body": body}
    if draw(st.booleans()):
        msg["RequestID"] = draw(st.integers(-(2**33), 2**33))
    return json.dumps(msg)


frames = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    json_values.map(json.dumps),
    near_valid(),
)


@settings(max_examples=2500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(frame=frames)
def test_every_frame_is_answered_and_the_server_survives(socket, frame) -> None:
    marker = next(SENTINEL)
    socket.send(frame)
    socket.send(json.dumps({"MsgType": "ReqQryInvestor", "RequestID": marker}))
    answers = 0
    while True:
        msg = orjson.loads(socket.recv(timeout=30))
        if msg.get("RequestID") == marker and msg.get("MsgType") == "RspQryInvestor":
            assert msg["RspInfo"]["ErrorID"] == 0
            break
        answers += 1
    assert answers >= 1, frame


def test_other_clients_unaffected(td, socket) -> None:
    with connect(td.url) as other:
        other.send(json.dumps({"MsgType": "ReqUserLogin", "RequestID": 1,
                               "ReqUserLogin": {"UserID": "bystander", "Password": "pw"}}))
        assert orjson.loads(other.recv(timeout=30))["RspInfo"]["ErrorID"] == 0
        other.send(json.dumps({"MsgType": "ReqQryTradingAccount", "RequestID": 2}))
        account = orjson.loads(other.recv(timeout=30))
        assert account["TradingAccount"]["Balance"] == account["TradingAccount"]["PreBalance"]
    assert "Traceback" not in td.log()
