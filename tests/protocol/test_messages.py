"""Decoding requests and the exact replies to bad ones (no sockets)."""

from __future__ import annotations

import pytest

from wsbridge.protocol.errors import CtpError, rsp_info
from wsbridge.protocol.messages import (
    ProtocolError,
    decode_request,
    error_reply,
    front_status,
    push,
    response,
)


def reject(raw: bytes | str, app: str = "td", **kwargs) -> dict:
    with pytest.raises(ProtocolError) as info:
        decode_request(raw, app, **kwargs)
    return info.value.reply()


def test_webctp_request_decodes() -> None:
    req = decode_request(b'{"MsgType":"ReqQryInstrument","QryInstrument":'
                         b'{"InstrumentID":"rb2701"},"RequestID":3}', "td")
    assert (req.msg_type, req.body, req.request_id) == (
        "ReqQryInstrument", {"InstrumentID": "rb2701"}, 3)


def test_body_and_request_id_are_optional() -> None:
    req = decode_request('{"MsgType":"ReqQryTradingAccount"}', "td")
    assert req.body == {} and req.request_id == 0


def test_subscribe_carries_instrument_list() -> None:
    req = decode_request('{"MsgType":"SubscribeMarketData","InstrumentID":["a","b"]}', "md")
    assert req.instrument_ids == ("a", "b")


def test_integral_floats_become_ints() -> None:
    req = decode_request('{"MsgType":"ReqOrderInsert","InputOrder":'
                         '{"VolumeTotalOriginal":2.0,"LimitPrice":3.0},"RequestID":4.0}', "td")
    assert req.body["VolumeTotalOriginal"] == 2 and type(req.body["VolumeTotalOriginal"]) is int
    assert type(req.body["LimitPrice"]) is float and req.request_id == 4


@pytest.mark.parametrize(("raw", "detail"), [
    ("not json", "invalid JSON"),
    ("[1,2]", "expected a JSON object, got an array"),
    ('"text"', "expected a JSON object, got text"),
    ('{"RequestID":1}', "MsgType: required"),
    ('{"MsgType":7}', "MsgType: expected text, got an integer"),
])
def test_unreadable_frames_get_rsp_error(raw: str, detail: str) -> None:
    reply = reject(raw)
    assert reply["MsgType"] == "RspError"
    assert reply["RspInfo"]["ErrorID"] == -400
    assert detail in reply["Detail"] and detail in reply["RspInfo"]["ErrorMsg"]


def test_unknown_msg_type_is_404_and_keeps_request_id() -> None:
    reply = reject('{"MsgType":"ReqFly","RequestID":9}')
    assert reply["RspInfo"]["ErrorID"] == -404 and reply["RequestID"] == 9
    assert "ReqFly" in reply["Detail"]


def test_wrong_server_is_named() -> None:
    assert "md server" in reject('{"MsgType":"SubscribeMarketData","InstrumentID":["a"]}',
                                 "td")["Detail"]
    assert "sent by the server" in reject('{"MsgType":"RtnOrder"}')["Detail"]


@pytest.mark.parametrize(("body", "detail"), [
    ('{"Direction":"x"}', "InputOrder.Direction: must be one of '0', '1'"),
    ('{"VolumeTotalOriginal":"1"}', "InputOrder.VolumeTotalOriginal: expected an integer"),
    ('{"VolumeTotalOriginal":1.5}', "InputOrder.VolumeTotalOriginal: expected an integer"),
    ('{"LimitPrice":true}', "InputOrder.LimitPrice: expected a number, got true or false"),
    ('{"Bogus":1}', "InputOrder.Bogus: unknown field"),
    ('{"InstrumentID":"' + "x" * 81 + '"}', "InputOrder.InstrumentID: longer than 80"),
    ('{"CombOffsetFlag":"9"}', "InputOrder.CombOffsetFlag: must match"),
    ('{"VolumeTotalOriginal":4294967296}', "out of range"),
    ("[]", "InputOrder: expected an object, got an array"),
])
def test_bad_fields_name_the_field(body: str, detail: str) -> None:
    reply = reject('{"MsgType":"ReqOrderInsert","InputOrder":' + body + ',"RequestID":5}')
    assert reply["MsgType"] == "RspOrderInsert"  # the request's own response type
    assert reply["RspInfo"]["ErrorID"] == -400 and reply["RequestID"] == 5
    assert reply["InputOrder"] is None and reply["IsLast"] is True
    assert detail in reply["Detail"]


def test_unknown_top_level_key_and_empty_subscription() -> None:
    assert reject('{"MsgType":"ReqQryOrder","Extra":{}}')["Detail"] == "Extra: unknown field"
    reply = reject('{"MsgType":"SubscribeMarketData","InstrumentID":[]}', "md")
    assert reply["MsgType"] == "RspSubMarketData" and "at least 1" in reply["Detail"]


def test_size_limit() -> None:
    reply = reject('{"MsgType":"ReqQryOrder"}' + " " * 100, max_bytes=64)
    assert reply["RspInfo"]["ErrorID"] == -400 and "exceeds the limit of 64" in reply["Detail"]


def test_builders_have_webctp_shape() -> None:
    assert response("RspQryOrder", "Order", None, None, 3) == {
        "MsgType": "RspQryOrder", "RspInfo": None, "RequestID": 3, "IsLast": True,
        "Order": None}
    assert push("RtnTrade", "Trade", {"Volume": 1}) == {"MsgType": "RtnTrade",
                                                        "Trade": {"Volume": 1}}
    reply = error_reply("RspOrderAction", "InputOrderAction", 25, None, 4)
    assert reply["RspInfo"] == rsp_info(25) and reply["InputOrderAction"] is None
    down = front_status(False, "link lost")
    assert down["MsgType"] == "FrontDisconnected" and down["RspInfo"]["ErrorID"] == 8
    assert front_status(True)["RspInfo"]["ErrorID"] == 0


def test_ctp_error_texts() -> None:
    assert CtpError(16).rsp_info() == {"ErrorID": 16, "ErrorMsg": "CTP:Instrument not found"}
    assert CtpError(-3, detail="limit 5/s").error_msg.endswith(": limit 5/s")
    assert CtpError(31, "native text").error_msg == "native text"
