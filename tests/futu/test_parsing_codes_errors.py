"""InstrumentID/ExchangeID <-> Futu codes, and Futu failure texts -> CTP ErrorIDs."""

from __future__ import annotations

import pytest

from wsbridge.adapters.futu.parsing import codes
from wsbridge.adapters.futu.parsing.errors import error_id_for, to_ctp_error
from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError


@pytest.mark.parametrize(("instrument", "exchange", "code"), [
    ("00700", "HKEX", "HK.00700"),
    ("700", "HKEX", "HK.00700"),
    ("00700", "", "HK.00700"),
    ("AAPL", "NASDAQ", "US.AAPL"),
    ("aapl", "", "US.AAPL"),
    ("IBM", "NYSE", "US.IBM"),
    ("BRK.B", "NYSE", "US.BRK.B"),
    ("600000", "SSE", "SH.600000"),
    ("600000", "", "SH.600000"),
    ("688981", "", "SH.688981"),
    ("000001", "SZSE", "SZ.000001"),
    ("000001", "", "SZ.000001"),
    ("300750", "", "SZ.300750"),
    ("000001", "SSE", "SH.000001"),  # the SSE index, named with its exchange
    ("HK.00700", "", "HK.00700"),
    ("US.AAPL", "NASDAQ", "US.AAPL"),
    ("SZ.000001", "", "SZ.000001"),
])
def test_to_futu(instrument, exchange, code):
    assert codes.to_futu(instrument, exchange) == code


@pytest.mark.parametrize(("instrument", "exchange", "problem"), [
    ("", "HKEX", "empty"),
    ("00700", "SHFE", "not a Futu market"),
    ("HK.00700", "NASDAQ", "not listed on NASDAQ"),
    ("1234567", "", "cannot tell"),
    ("ABC", "HKEX", "HK codes"),
    ("60000", "SSE", "A-share codes are 6 digits"),
    ("\u00b2", "", "cannot tell"),  # a superscript two is not a digit here
    ("\u0661\u0662\u0663", "HKEX", "HK codes"),
])
def test_to_futu_refuses_with_instrument_not_found(instrument, exchange, problem):
    with pytest.raises(CtpError) as caught:
        codes.to_futu(instrument, exchange)
    assert caught.value.error_id == errors.INSTRUMENT_NOT_FOUND
    assert problem in caught.value.detail


@pytest.mark.parametrize(("code", "exchange", "expected"), [
    ("HK.00700", None, ("00700", "HKEX")),
    ("US.AAPL", None, ("AAPL", "US")),
    ("US.AAPL", "NASDAQ", ("AAPL", "NASDAQ")),
    ("SH.600000", None, ("600000", "SSE")),
    ("SZ.000001", None, ("000001", "SZSE")),
])
def test_from_futu(code, exchange, expected):
    assert codes.from_futu(code, exchange) == expected


def test_round_trip_for_every_market():
    for instrument, exchange in [("00700", "HKEX"), ("600000", "SSE"), ("000001", "SZSE")]:
        assert codes.from_futu(codes.to_futu(instrument, exchange)) == (instrument, exchange)


def test_exchange_of_futu_exchange_types():
    assert codes.exchange_of_type("US_NASDAQ", "US") == "NASDAQ"
    assert codes.exchange_of_type("US_NYSE", "US") == "NYSE"
    assert codes.exchange_of_type("HK_GEMBOARD", "HK") == "HKEX"
    assert codes.exchange_of_type("CN_STIB", "SH") == "SSE"
    assert codes.exchange_of_type("N/A", "SZ") == "SZSE"


@pytest.mark.parametrize(("text", "error_id"), [
    ("购买力不足", errors.INSUFFICIENT_MONEY),
    ("Insufficient buying power: need 1,000", errors.INSUFFICIENT_MONEY),
    ("Unknown stock HK.99999", errors.INSTRUMENT_NOT_FOUND),
    ("ERROR. format of code 00700 is wrong. (US.AAPL, HK.00700, SZ.000001)",
     errors.INSTRUMENT_NOT_FOUND),
    ("未知股票", errors.INSTRUMENT_NOT_FOUND),
    ("Unlock failed: wrong password", errors.INVALID_LOGIN),
    ("解锁失败，密码错误", errors.INVALID_LOGIN),
    ("Trading is locked: unlock trade first", errors.NOT_LOGGED_IN),
    ("请重新解锁！", errors.NOT_LOGGED_IN),
    ("Order does not exist: 42", errors.ORDER_NOT_FOUND),
    ("订单不存在", errors.ORDER_NOT_FOUND),
    ("Order status does not allow cancelling", errors.ORDER_NOT_CANCELABLE),
    ("Insufficient position: the quantity exceeds the sellable quantity",
     errors.CLOSE_EXCEEDS_POSITION),
    ("可卖数量不足", errors.CLOSE_EXCEEDS_POSITION),
    ("Market closed: the order cannot be placed now", errors.INSTRUMENT_NOT_TRADING),
    ("Invalid order: quantity 150 must be a multiple of the lot size",
     errors.BAD_ORDER_FIELD),
    ("价格错误", errors.BAD_ORDER_FIELD),
    ("modifyOrderOp 1 is not supported by sim-opend", errors.UNSUPPORTED_FUNCTION),
    ("Disconnect", errors.FRONT_NOT_ACTIVE),
    ("请求太频繁", errors.TOO_MANY_PER_SECOND),
    ("something nobody expected", errors.REQUEST_FAILED),
    ("", errors.REQUEST_FAILED),
])
def test_error_table(text, error_id):
    assert error_id_for(text) == error_id


def test_ctp_error_keeps_futus_text():
    error = to_ctp_error("购买力不足")
    assert error.error_id == errors.INSUFFICIENT_MONEY
    assert "购买力不足" in error.error_msg and error.error_msg.startswith("CTP:")
    assert to_ctp_error(None).error_msg.endswith("(Futu: no reason given)")
