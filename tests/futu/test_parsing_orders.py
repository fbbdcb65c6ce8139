"""InputOrder -> place_order arguments; Futu orders/deals -> CTP Order/Trade; statuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsbridge.adapters.futu.parsing import orders as po
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError


def input_order(**fields) -> dict:
    base = {"InstrumentID": "00700", "ExchangeID": "HKEX", "Direction": "0",
            "CombOffsetFlag": "0", "OrderPriceType": "2", "LimitPrice": 380.2,
            "VolumeTotalOriginal": 200, "TimeCondition": "3", "VolumeCondition": "1",
            "ContingentCondition": "1"}
    return {**base, **fields}


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, po.OrderArgs("BUY", "NORMAL", 380.2, 200.0, "DAY")),
    ({"Direction": "1", "CombOffsetFlag": "1"}, po.OrderArgs("SELL", "NORMAL", 380.2, 200.0)),
    ({"Direction": "1", "CombOffsetFlag": "3"}, po.OrderArgs("SELL", "NORMAL", 380.2, 200.0)),
    ({"Direction": "1", "CombOffsetFlag": "0"},
     po.OrderArgs("SELL_SHORT", "NORMAL", 380.2, 200.0)),
    ({"Direction": "0", "CombOffsetFlag": "4"},
     po.OrderArgs("BUY_BACK", "NORMAL", 380.2, 200.0)),
    ({"OrderPriceType": "1", "TimeCondition": "1"}, po.OrderArgs("BUY", "MARKET", 0.0, 200.0)),
    ({"TimeCondition": "5"}, po.OrderArgs("BUY", "NORMAL", 380.2, 200.0, "GTC")),
    ({"TimeCondition": "1"}, po.OrderArgs("BUY", "SPECIAL_LIMIT", 380.2, 200.0)),
    ({"TimeCondition": "1", "VolumeCondition": "3"},
     po.OrderArgs("BUY", "SPECIAL_LIMIT_ALL", 380.2, 200.0)),
    ({"OrderPriceType": "", "TimeCondition": "", "VolumeCondition": "",
      "ContingentCondition": "", "CombOffsetFlag": ""},
     po.OrderArgs("BUY", "NORMAL", 380.2, 200.0, "DAY")),
])
def test_order_args(fields, expected):
    assert po.order_args(input_order(**fields)) == expected


@pytest.mark.parametrize(("fields", "field"), [
    ({"Direction": ""}, "Direction"),
    ({"CombOffsetFlag": "2"}, "CombOffsetFlag"),
    ({"VolumeTotalOriginal": 0}, "VolumeTotalOriginal"),
    ({"VolumeTotalOriginal": 1.5}, "VolumeTotalOriginal"),
    ({"LimitPrice": 0.0}, "LimitPrice"),
    ({"LimitPrice": float("nan")}, "LimitPrice"),
    ({"OrderPriceType": "3"}, "OrderPriceType"),
    ({"TimeCondition": "4"}, "TimeCondition"),
    ({"ContingentCondition": "5"}, "ContingentCondition"),
])
def test_order_args_refuses_with_the_field(fields, field):
    with pytest.raises(CtpError) as caught:
        po.order_args(input_order(**fields))
    assert caught.value.error_id == errors.BAD_ORDER_FIELD
    assert field in caught.value.detail


@given(st.integers(0, 2**31 - 1), st.integers(0, 2**31 - 1),
       st.text(alphabet="0123456789abcXYZ:", max_size=12))
def test_remark_round_trip(front, session, ref):
    identity = po.Identity(front, session, ref)
    remark = identity.remark()
    assert len(remark.encode()) <= 64  # Futu's limit
    assert po.parse_remark(remark) == identity


@pytest.mark.parametrize("remark", ["", None, "hello", "wsb:", "wsb:1:2", "wsb:x:2:3"])
def test_foreign_remarks_carry_no_identity(remark):
    assert po.parse_remark(remark) is None


@pytest.mark.parametrize(("status", "expected"), [
    ("SUBMITTING", ("a", "0")),
    ("SUBMITTED", ("3", "3")),
    ("FILLED_PART", ("1", "3")),
    ("FILLED_ALL", ("0", "3")),
    ("CANCELLING_ALL", ("3", "1")),
    ("CANCELLED_PART", ("5", "3")),
    ("CANCELLED_ALL", ("5", "3")),
    ("FAILED", ("5", "4")),
    ("SUBMIT_FAILED", ("5", "4")),
    ("N/A", ("a", "0")),
])
def test_status_mapping(status, expected):
    assert po.ctp_status(status) == expected


@pytest.mark.parametrize(("previous", "current", "news"), [
    (None, ("SUBMITTING", 0), True),
    (("SUBMITTED", 0), ("SUBMITTED", 0), False),  # a repeat
    (("SUBMITTED", 0), ("FILLED_PART", 100), True),
    (("FILLED_PART", 100), ("SUBMITTED", 0), False),  # stale: less filled
    (("FILLED_ALL", 200), ("FILLED_PART", 100), False),
    (("SUBMITTED", 0), ("SUBMITTING", 0), False),  # back to pending
    (("CANCELLING_ALL", 0), ("SUBMITTED", 0), True),  # the cancel was refused
    (("CANCELLED_ALL", 0), ("SUBMITTED", 0), False),  # final stays final
    (("SUBMITTED", 0), ("CANCELLED_ALL", 0), True),
    (("FILLED_PART", 100), ("CANCELLED_PART", 100), True),
])
def test_is_newer(previous, current, news):
    assert po.is_newer(previous, current) is news


def futu_order(**fields) -> dict:
    base = {"code": "HK.00700", "stock_name": "腾讯控股", "trd_side": "BUY",
            "order_type": "NORMAL", "order_status": "FILLED_PART",
            "order_id": "5615865861720262272",
            "qty": 300.0, "price": 380.2, "create_time": "2024-06-05 10:20:30.123",
            "updated_time": "2024-06-05 10:21:00", "dealt_qty": 100.0,
            "dealt_avg_price": 380.0, "last_err_msg": "", "remark": "wsb:1:77:12",
            "time_in_force": "DAY", "currency": "HKD"}
    return {**base, **fields}


def test_ctp_order():
    order = po.ctp_order(futu_order(), "00700", "HKEX", "1000001", user_id="1000001",
                         broker_id="futu", currency="HKD")
    assert set(order) == set(catalog.fields("Order"))
    assert order["OrderSysID"] == "5615865861720262272"
    assert (order["FrontID"], order["SessionID"], order["OrderRef"]) == (1, 77, "12")
    assert (order["Direction"], order["CombOffsetFlag"]) == ("0", "0")
    assert (order["OrderStatus"], order["OrderSubmitStatus"]) == ("1", "3")
    assert (order["VolumeTotalOriginal"], order["VolumeTraded"], order["VolumeTotal"]) == (
        300, 100, 200)
    assert (order["InsertDate"], order["InsertTime"], order["UpdateTime"]) == (
        "20240605", "10:20:30", "10:21:00")
    assert order["LimitPrice"] == 380.2 and order["InvestorID"] == "1000001"
    assert order["StatusMsg"] == "FILLED_PART" and order["CancelTime"] == ""


def test_ctp_order_of_a_foreign_failed_order():
    order = po.ctp_order(futu_order(order_status="FAILED", remark="", dealt_qty=0,
                                    trd_side="SELL", order_type="MARKET", last_err_msg="购买力不足",
                                    qty="N/A"),
                         "00700", "HKEX", "1")
    assert (order["FrontID"], order["SessionID"], order["OrderRef"]) == (0, 0, "")
    assert (order["OrderStatus"], order["OrderSubmitStatus"]) == ("5", "4")
    assert order["StatusMsg"] == "购买力不足"
    assert (order["Direction"], order["CombOffsetFlag"], order["OrderPriceType"]) == (
        "1", "1", "1")
    assert order["VolumeTotalOriginal"] == 0


def test_ctp_order_time_conditions():
    gtc = po.ctp_order(futu_order(time_in_force="GTC"), "00700", "HKEX", "1")
    assert gtc["TimeCondition"] == "5"
    fok = po.ctp_order(futu_order(order_type="SPECIAL_LIMIT_ALL"), "00700", "HKEX", "1")
    assert (fok["TimeCondition"], fok["VolumeCondition"], fok["MinVolume"]) == ("1", "3", 300)
    canceled = po.ctp_order(futu_order(order_status="CANCELLED_PART"), "00700", "HKEX", "1")
    assert canceled["CancelTime"] == "10:21:00"


def test_ctp_trade():
    deal = {"code": "US.AAPL", "deal_id": 88, "order_id": "5615865861720262272",
            "qty": 10.0, "price": 225.31, "trd_side": "SELL",
            "create_time": "2024-06-05 22:30:01.5"}
    trade = po.ctp_trade(deal, "AAPL", "NASDAQ", "1000001", identity=po.Identity(1, 7, "3"),
                         broker_id="futu")
    assert set(trade) == set(catalog.fields("Trade"))
    assert (trade["TradeID"], trade["OrderSysID"], trade["OrderRef"]) == (
        "88", "5615865861720262272", "3")
    assert (trade["Direction"], trade["OffsetFlag"], trade["Volume"], trade["Price"]) == (
        "1", "1", 10, 225.31)
    assert (trade["TradeDate"], trade["TradeTime"]) == ("20240605", "22:30:01")
    assert po.ctp_trade(deal, "AAPL", "NASDAQ", "1", offset="3")["OffsetFlag"] == "3"


def test_split_time():
    assert po.split_time("2024-06-05 10:20:30.123") == ("20240605", "10:20:30")
    assert po.split_time("2024-06-05") == ("20240605", "")
    assert po.split_time("") == ("", "")
