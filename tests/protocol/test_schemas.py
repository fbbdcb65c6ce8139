"""protocols/ is consistent with itself, with JSON Schema, and with openctp."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from wsbridge.protocol import catalog
from wsbridge.protocol.messages import ProtocolError, decode_request
from wsbridge.protocol.schema import request_checker

WEBCTP_TD = [
    "ReqUserLogin", "ReqUserPasswordUpdate", "ReqOrderInsert", "ReqOrderAction",
    "ReqQryInstrument", "ReqQryExchange", "ReqQryProduct", "ReqQryDepthMarketData",
    "ReqQryOrder", "ReqQryTrade", "ReqQryInvestorPosition", "ReqQryInvestorPositionDetail",
    "ReqQryTradingAccount", "ReqQryInvestor", "ReqQryTradingCode",
    "ReqQryInstrumentMarginRate", "ReqQryInstrumentCommissionRate", "ReqQryExchangeMarginRate",
    "ReqQryInstrumentOrderCommRate", "ReqQryOptionInstrTradeCost", "ReqQryOptionInstrCommRate",
    "ReqQryMaxOrderVolume",
]


def registry() -> Registry:
    structs = catalog.structs_schema()
    return Registry().with_resource(structs["$id"], Resource.from_contents(structs))


def validator(app: str, msg_type: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(catalog.message_schema(app, msg_type),
                                           registry=registry())


def test_every_schema_is_valid_json_schema() -> None:
    for app in ("md", "td"):
        for name in catalog.messages(app):
            jsonschema.Draft202012Validator.check_schema(catalog.message_schema(app, name))


def test_webctp_requests_all_present_with_responses() -> None:
    for name in WEBCTP_TD:
        spec = catalog.message("td", name)
        assert spec is not None and spec.kind == "request", name
        assert spec.response is not None and spec.response.kind == "response"
    for name in ("ReqUserLogin", "SubscribeMarketData", "UnSubscribeMarketData"):
        assert catalog.message("md", name).kind == "request"
    assert catalog.message("md", "RtnDepthMarketData").body == "DepthMarketData"


def test_the_whole_trader_api_is_described() -> None:
    """118 Req* in openctp-ctp 6.7.x, each with its response."""
    requests = catalog.requests("td")
    assert len(requests) >= 118
    assert all(catalog.message("td", r).response for r in requests)


def test_matches_openctp_structs() -> None:
    """Field lists and types come from openctp itself."""
    from openctp_ctp import tdapi

    for struct in ("InputOrder", "Order", "Trade", "DepthMarketData", "TradingAccount"):
        obj = getattr(tdapi, f"CThostFtdc{struct}Field")()
        names = [n for n in dir(obj) if not n.startswith("_") and n not in ("this", "thisown")]
        fields = catalog.fields(struct)
        assert sorted(fields) == sorted(names)
        for name, spec in fields.items():
            value = getattr(obj, name)
            expected = {float: "float", int: "int", str: ("char", "string")}[type(value)]
            assert spec.kind in expected, (struct, name)
    assert catalog.fields("InputOrder")["InstrumentID"].max_len == 80
    assert catalog.fields("InputOrder")["Direction"].kind == "char"


def test_blank_has_every_field_at_zero() -> None:
    order = catalog.blank("Order")
    assert order["LimitPrice"] == 0.0 and order["VolumeTraded"] == 0 and order["OrderStatus"] == ""
    assert set(order) == set(catalog.fields("Order"))
    with pytest.raises(KeyError):
        catalog.filled("Order", {"NotAField": 1})


def test_markdown_has_an_example_per_request() -> None:
    root = catalog.protocols_dir()
    for app in ("md", "td"):
        text = (root / f"{app}_protocol.md").read_text(encoding="utf-8")
        for name in catalog.requests(app):
            assert f"### {name}\n" in text
            assert f'"MsgType": "{name}"' in text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=90),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=8,
)
order_fields = st.sampled_from([*sorted(catalog.fields("InputOrder")), "Bogus"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(order_fields, json_values, max_size=6), json_values)
def test_our_checker_agrees_with_jsonschema(body: dict, request_id: object) -> None:
    """The compiled checker accepts exactly what the JSON Schema accepts."""
    msg = {"MsgType": "ReqOrderInsert", "InputOrder": body, "RequestID": request_id}
    ours = request_checker("td", "ReqOrderInsert")(msg, "")
    theirs = list(validator("td", "ReqOrderInsert").iter_errors(msg))
    assert (ours is None) == (not theirs), (ours, theirs)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.builds(lambda v: json.dumps(v).encode(), json_values))
def test_decode_never_raises_anything_but_protocol_error(raw: bytes) -> None:
    try:
        decode_request(raw, "td")
    except ProtocolError as exc:
        reply = exc.reply()
        assert reply["RspInfo"]["ErrorID"] in (-400, -404)
        assert reply["IsLast"] is True
