"""sim-opend's pure layers: OpenD framing, and CTP dicts -> OpenD message fields."""

from __future__ import annotations

import hashlib
import struct

import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st

from wsbridge.simulators.opend import protocol, protos
from wsbridge.simulators.opend import translate as tr


def test_packet_layout_is_futus():
    packet = protocol.encode_packet(1004, 77, b"body")
    assert len(packet) == 44 + 4
    magic, proto_id, fmt, version, serial, length, digest, reserved = struct.unpack(
        "<2sIBBII20s8s", packet[:44])
    assert (magic, proto_id, fmt, version, serial, length) == (b"FT", 1004, 0, 0, 77, 4)
    assert digest == hashlib.sha1(b"body").digest() and reserved == b"\0" * 8


def test_futu_api_parses_our_packets(futu):
    from futu.common.utils import parse_head

    head = parse_head(protocol.encode_packet(3005, 9, b"x" * 10)[:44])
    assert (head["proto_id"], head["serial_no"], head["body_len"]) == (3005, 9, 10)


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=5), st.integers(1, 50))
def test_reader_reassembles_any_split(bodies, chunk):
    stream = b"".join(protocol.encode_packet(1000 + i, i, b) for i, b in enumerate(bodies))
    reader = protocol.PacketReader()
    packets = []
    for start in range(0, len(stream), chunk):
        packets.extend(reader.feed(stream[start:start + chunk]))
    assert [p.body for p in packets] == bodies
    assert [p.serial_no for p in packets] == list(range(len(bodies)))


def test_reader_refuses_what_is_not_opend():
    with pytest.raises(protocol.ProtocolError, match="magic"):
        protocol.PacketReader().feed(b"GET / HTTP/1.1\r\n" + b"\0" * 40)
    tampered = bytearray(protocol.encode_packet(1004, 1, b"abc"))
    tampered[-1] ^= 1
    with pytest.raises(protocol.ProtocolError, match="SHA1"):
        protocol.PacketReader().feed(bytes(tampered))
    huge = protocol.HEADER.pack(b"FT", 1, 0, 0, 1, protocol.MAX_BODY + 1, b"\0" * 20, b"\0" * 8)
    with pytest.raises(protocol.ProtocolError, match="too large"):
        protocol.PacketReader().feed(huge)


@pytest.mark.parametrize("fmt", [protocol.FMT_PROTOBUF, protocol.FMT_JSON])
def test_bodies_round_trip_in_both_formats(fmt):
    request = protos.request_class(protos.KEEP_ALIVE)()
    request.c2s.time = 1_700_000_000
    body = protocol.serialize_body(request, fmt)
    assert protocol.parse_body(type(request), body, fmt).c2s.time == 1_700_000_000


def test_parse_body_names_what_is_missing():
    with pytest.raises(ValueError, match="c2s"):
        protocol.parse_body(protos.request_class(protos.KEEP_ALIVE), b"", protocol.FMT_PROTOBUF)
    with pytest.raises(ValueError, match="cannot decode"):
        protocol.parse_body(protos.request_class(protos.KEEP_ALIVE), b"{", protocol.FMT_JSON)


STOCK = tr.Stock(market="HK", symbol="00700", instrument_id="00700", exchange_id="HKEX",
                 name="腾讯控股", lot=100, tick=0.2, currency="HKD")
DEPTH = {"TradingDay": "20240605", "ActionDay": "20240605", "UpdateTime": "10:20:30",
         "UpdateMillisec": 500, "LastPrice": 380.2, "OpenPrice": 378.0, "HighestPrice": 382.0,
         "LowestPrice": 378.2, "PreClosePrice": 380.0, "Volume": 1000, "Turnover": 380_000.0,
         "BidPrice1": 380.0, "BidVolume1": 500, "AskPrice1": 380.2, "AskVolume1": 300,
         "BidPrice2": 379.8, "BidVolume2": 100, "AskPrice2": 0.0, "AskVolume2": 0}


def fits(module: str, message: str, fields: dict) -> None:
    """``fields`` parse into futu-api's message (so OpenD's client can read them)."""
    json_format.ParseDict(fields, getattr(protos.pb(module), message)())


def test_quote_translations_fit_futus_messages():
    basic = tr.basic_quote(STOCK, DEPTH)
    fits("Qot_Common", "BasicQot", basic)
    assert basic["updateTime"] == "2024-06-05 10:20:30.500"
    assert basic["security"] == {"market": 1, "code": "00700"} and basic["amplitude"] == 1.0
    book = tr.order_book(STOCK, DEPTH)
    fits("Qot_UpdateOrderBook", "S2C", book)
    assert [b["price"] for b in book["orderBookBidList"]] == [380.0, 379.8]
    assert [a["price"] for a in book["orderBookAskList"]] == [380.2]  # empty levels left out
    fits("Qot_GetSecuritySnapshot", "Snapshot", tr.snapshot(STOCK, DEPTH))
    fits("Qot_Common", "SecurityStaticInfo", tr.static_info(STOCK))


CTP_ORDER = {"InstrumentID": "00700", "OrderSysID": "42", "Direction": "1",
             "CombOffsetFlag": "1", "OrderPriceType": "2", "TimeCondition": "3",
             "VolumeCondition": "1", "LimitPrice": 380.2, "VolumeTotalOriginal": 300,
             "VolumeTraded": 100, "OrderStatus": "1", "OrderSubmitStatus": "3",
             "InsertDate": "20240605", "InsertTime": "10:20:30", "UpdateTime": "10:21:00",
             "StatusMsg": "part traded"}


def test_order_translation():
    order = tr.order(STOCK, CTP_ORDER, "wsb:1:2:3", 380.1, tr.TRD_MARKET_HK)
    fits("Trd_Common", "Order", order)
    assert (order["orderID"], order["orderIDEx"], order["remark"]) == (42, "42", "wsb:1:2:3")
    assert (order["trdSide"], order["orderType"], order["orderStatus"]) == (
        tr.TRD_SIDE_SELL, tr.ORDER_TYPE_NORMAL, tr.OS_FILLED_PART)
    assert (order["createTime"], order["updateTime"]) == (
        "2024-06-05 10:20:30", "2024-06-05 10:21:00")
    assert (order["qty"], order["fillQty"], order["fillAvgPrice"]) == (300.0, 100.0, 380.1)


@pytest.mark.parametrize(("fields", "status"), [
    ({"OrderStatus": "a", "OrderSubmitStatus": "0"}, tr.OS_SUBMITTING),
    ({"OrderStatus": "3", "VolumeTraded": 0}, tr.OS_SUBMITTED),
    ({"OrderStatus": "0"}, tr.OS_FILLED_ALL),
    ({"OrderStatus": "5", "VolumeTraded": 0}, tr.OS_CANCELLED_ALL),
    ({"OrderStatus": "5", "VolumeTraded": 100}, tr.OS_CANCELLED_PART),
    ({"OrderStatus": "5", "OrderSubmitStatus": "4"}, tr.OS_FAILED),
])
def test_order_status(fields, status):
    assert tr.order_status({**CTP_ORDER, **fields}) == status


@pytest.mark.parametrize(("side", "kind", "tif", "expected"), [
    (tr.TRD_SIDE_BUY, tr.ORDER_TYPE_NORMAL, 0, ("0", "0", "2", "3", "1")),
    (tr.TRD_SIDE_SELL, tr.ORDER_TYPE_NORMAL, 1, ("1", "1", "2", "5", "1")),
    (tr.TRD_SIDE_SELL_SHORT, tr.ORDER_TYPE_MARKET, 0, ("1", "0", "1", "1", "1")),
    (tr.TRD_SIDE_BUY_BACK, tr.ORDER_TYPE_SPECIAL_LIMIT_ALL, 0, ("0", "1", "2", "1", "3")),
])
def test_input_order(side, kind, tif, expected):
    inp = tr.input_order(STOCK, side, kind, 200, 380.2, tif)
    assert (inp["Direction"], inp["CombOffsetFlag"], inp["OrderPriceType"],
            inp["TimeCondition"], inp["VolumeCondition"]) == expected
    assert inp["VolumeTotalOriginal"] == 200
    assert inp["LimitPrice"] == (0.0 if kind == tr.ORDER_TYPE_MARKET else 380.2)
    # and back: the order's Futu side and type are what was asked for
    back = tr.order(STOCK, {**CTP_ORDER, **inp}, "", 0.0, 1)
    assert (back["trdSide"], back["orderType"]) == (side, kind)


def test_fill_funds_and_position_translations():
    trade = {"InstrumentID": "00700", "TradeID": "9", "OrderSysID": "42", "Direction": "0",
             "OffsetFlag": "0", "Volume": 100, "Price": 380.0, "TradeDate": "20240605",
             "TradeTime": "10:20:31"}
    fill = tr.order_fill(STOCK, trade, tr.TRD_MARKET_HK)
    fits("Trd_Common", "OrderFill", fill)
    assert (fill["fillIDEx"], fill["orderIDEx"], fill["trdSide"]) == ("9", "42", 1)
    account = {"Balance": 1_000_000.0, "Available": 800_000.0, "CurrMargin": 190_000.0,
               "PositionProfit": 1_000.0, "FrozenMargin": 9_000.0, "CloseProfit": 5.0}
    funds = tr.funds(account, "HKD")
    fits("Trd_Common", "Funds", funds)
    assert (funds["totalAssets"], funds["marketVal"], funds["cash"]) == (
        1_000_000.0, 191_000.0, 809_000.0)
    assert (funds["power"], funds["frozenCash"], funds["currency"]) == (800_000.0, 9_000.0, 1)
    rows = [{"InstrumentID": "00700", "PosiDirection": "2", "Position": 300,
             "TodayPosition": 100, "ShortFrozen": 100, "OpenCost": 114_000.0},
            {"InstrumentID": "rb2701", "PosiDirection": "2", "Position": 1}]
    (position,) = tr.positions({"00700": STOCK}, rows, {"00700": 390.0}, {"HK": 1})
    fits("Trd_Common", "Position", position)
    assert (position["qty"], position["canSellQty"], position["costPrice"]) == (
        300.0, 200.0, 380.0)
    assert (position["val"], position["plVal"], position["td_buyQty"]) == (
        117_000.0, 3_000.0, 100.0)


def test_order_ids_are_64_bit():
    assert tr.order_id_of(" 42") == 42
    for odd in ("99999999999999999999", "abc", "\u00b2", ""):
        assert 0 <= tr.order_id_of(odd) < 2**63
