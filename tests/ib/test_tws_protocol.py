"""sim-tws's wire layer against ib-insync's own encoder and decoder (no sockets).

Requests are encoded by ib-insync's real Client (its transport swapped for a recorder)
and decoded by the simulator; responses are encoded by the simulator and decoded by
ib-insync's real Decoder, which calls a recording wrapper.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ib_insync import ExecutionFilter, LimitOrder, MarketOrder, Stock
from ib_insync.client import Client
from ib_insync.decoder import Decoder

from wsbridge.simulators.tws import accounts, protocol, responses
from wsbridge.simulators.tws import requests as rq
from wsbridge.simulators.tws.contracts import ContractDef, SecurityMaster, define
from wsbridge.simulators.tws.records import SimExecution, SimOrder

AAPL = ContractDef("AAPL", "NASDAQ", 265598, "AAPL", "STK", "SMART", "NASDAQ", "USD",
                   "AAPL", "AAPL", "Apple Inc.", 0.01)
TENCENT = ContractDef("00700", "HKEX", 700700, "700", "STK", "SEHK", "SEHK", "HKD", "700",
                      "700", "腾讯控股", 0.2, lot=100)


# --- framing and handshake ----------------------------------------------------------------


def test_frame_encodes_fields_like_tws():
    data = protocol.frame([1, 2.5, 3.0, True, None, "x", float("inf")])
    (size,) = struct.unpack(">I", data[:4])
    assert data[4:] == b"1\x002.5\x003\x001\x00\x00x\x00Infinite\x00"
    assert size == len(data) - 4


@given(st.lists(st.lists(st.text(alphabet=st.characters(blacklist_characters="\0",
                                                         blacklist_categories=("Cs",))),
                         min_size=1, max_size=6), min_size=1, max_size=5),
       st.integers(min_value=1, max_value=7))
def test_deframer_reassembles_any_split(messages, chunk):
    stream = protocol.PREFIX + b"".join(protocol.frame(m) for m in messages)
    deframer = protocol.Deframer()
    out = []
    for start in range(0, len(stream), chunk):
        out += deframer.feed(stream[start:start + chunk])
    assert out == messages


def test_deframer_refuses_a_non_api_client():
    with pytest.raises(protocol.ProtocolViolation):
        protocol.Deframer().feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(protocol.ProtocolViolation):
        protocol.Deframer().feed(protocol.PREFIX + struct.pack(">I", 1 << 30))


def test_version_negotiation():
    assert protocol.parse_version_range("v157..176 +PACEAPI") == (157, 176, "+PACEAPI")
    assert protocol.parse_version_range("v100") == (100, 100, "")
    assert protocol.negotiate(157, 178) == protocol.SERVER_VERSION
    for bad in ("x157..176", "v176..157"):
        with pytest.raises(protocol.ProtocolViolation):
            protocol.parse_version_range(bad)
    with pytest.raises(protocol.ProtocolViolation):
        protocol.negotiate(100, 151)


# --- requests: ib-insync encodes, the simulator decodes ----------------------------------


class Recorder:
    """Where ib-insync's Client writes: collects the framed messages it sends."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> None:  # ib-insync's Connection API
        self.sent.append(msg)

    def disconnect(self) -> None:
        pass


def _client() -> tuple[Client, Recorder]:
    client = Client(wrapper=object())
    client.conn = recorder = Recorder()
    client.connState = Client.CONNECTED
    client._serverVersion = protocol.SERVER_VERSION
    return client, recorder


def _decoded(recorder: Recorder) -> list[rq.Request]:
    deframer = protocol.Deframer()
    deframer.feed(protocol.PREFIX)
    return [rq.decode(f) for msg in recorder.sent for f in deframer.feed(msg)]


async def test_handshake_and_start_api_as_ib_insync_sends_them():
    client, recorder = _client()
    client.clientId = 7
    client.startApi()
    (req,) = _decoded(recorder)
    assert isinstance(req, rq.StartApi) and req.client_id == 7


async def test_place_order_decodes_to_its_terms():
    client, recorder = _client()
    contract = Stock("AAPL", "SMART", "USD", primaryExchange="NASDAQ")
    client.placeOrder(11, contract, LimitOrder("BUY", 100, 101.25, tif="IOC", orderRef="r1",
                                               account="DU1", outsideRth=True))
    client.placeOrder(12, contract, MarketOrder("SELL", 5, algoStrategy="Adaptive",
                                                algoParams=[]))
    client.placeOrder(13, contract, LimitOrder("BUY", 1, 1.0, whatIf=True))
    limit, market, what_if = _decoded(recorder)
    assert isinstance(limit, rq.PlaceOrder) and limit.req_id == 11
    assert (limit.contract.symbol, limit.contract.exchange, limit.contract.primary_exchange,
            limit.contract.currency, limit.contract.sec_type) == (
        "AAPL", "SMART", "NASDAQ", "USD", "STK")
    assert (limit.action, limit.quantity, limit.order_type, limit.limit_price) == (
        "BUY", 100.0, "LMT", 101.25)
    assert (limit.tif, limit.order_ref, limit.account, limit.outside_rth) == (
        "IOC", "r1", "DU1", True)
    assert limit.transmit and not limit.what_if and not limit.unsupported
    assert (market.action, market.order_type, market.limit_price, market.quantity) == (
        "SELL", "MKT", None, 5.0)
    assert not market.unsupported
    assert what_if.what_if and what_if.unsupported


async def test_other_requests_decode():
    client, recorder = _client()
    contract = Stock("700", "SEHK", "HKD")
    client.reqMktData(3, contract, "233", True, False, [])
    client.reqContractDetails(4, contract)
    client.cancelOrder(11)
    client.reqAccountUpdates(True, "DU1")
    client.reqAccountSummary(5, "All", "NetLiquidation,AvailableFunds")
    client.reqExecutions(6, ExecutionFilter(clientId=2, symbol="AAPL", side="BUY"))
    client.reqAccountUpdatesMulti(8, "DU1", "", False)
    client.reqIds(1)
    client.reqCompletedOrders(False)
    client.reqPnL(9, "DU1", "")
    mkt, details, cancel, updates, summary, execs, multi, ids, completed, pnl = \
        _decoded(recorder)
    assert isinstance(mkt, rq.MktData) and mkt.snapshot and mkt.generic_ticks == "233"
    assert (mkt.req_id, mkt.contract.symbol, mkt.contract.exchange) == (3, "700", "SEHK")
    assert isinstance(details, rq.ContractDetails) and details.contract.currency == "HKD"
    assert isinstance(cancel, rq.CancelOrder) and cancel.req_id == 11
    assert isinstance(updates, rq.AccountUpdates) and updates.subscribe
    assert updates.account == "DU1"
    assert (summary.req_id, summary.group, summary.tags) == (
        5, "All", "NetLiquidation,AvailableFunds")
    assert (execs.req_id, execs.client_id, execs.symbol, execs.side) == (6, 2, "AAPL", "BUY")
    assert (multi.req_id, multi.account) == (8, "DU1")
    assert isinstance(ids, rq.Simple) and ids.value == 1
    assert completed.msg_id == protocol.In.REQ_COMPLETED_ORDERS
    assert type(pnl) is rq.Request and pnl.msg_id == 92


def test_truncated_request_is_a_protocol_violation():
    with pytest.raises(protocol.ProtocolViolation):
        rq.decode(["9", "8", "4", "0", "AAPL"])
    with pytest.raises(protocol.ProtocolViolation):
        rq.decode(["x"])


# --- responses: the simulator encodes, ib-insync decodes ---------------------------------


class Calls:
    """A wrapper that records what ib-insync's Decoder calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name, args))


def decode(*messages: list) -> list[tuple[str, tuple]]:
    wrapper = Calls()
    decoder = Decoder(wrapper, protocol.SERVER_VERSION)
    for msg in messages:
        data = protocol.frame(msg)
        decoder.interpret(data[4:].decode().split("\0")[:-1])  # as Client splits them
    return wrapper.calls


def _order(**values) -> SimOrder:
    base = dict(perm_id=1000001, client_id=2, order_id=11, account="DU1", contract=AAPL,
                action="BUY", quantity=100.0, order_type="LMT", limit_price=101.25,
                tif="DAY", order_ref="r1", status="Submitted", filled=40.0,
                avg_fill_price=101.2, last_fill_price=101.2)
    return SimOrder(**{**base, **values})


def test_open_order_and_status_decode():
    order = _order()
    (open_call, status_call) = decode(responses.open_order(order),
                                      responses.order_status(order))
    name, (order_id, contract, ib_order, state) = open_call
    assert name == "openOrder" and order_id == 11
    assert (contract.conId, contract.symbol, contract.exchange, contract.currency) == (
        265598, "AAPL", "SMART", "USD")
    assert (ib_order.action, ib_order.totalQuantity, ib_order.orderType, ib_order.lmtPrice) \
        == ("BUY", 100.0, "LMT", 101.25)
    assert (ib_order.permId, ib_order.clientId, ib_order.orderRef, ib_order.account) == (
        1000001, 2, "r1", "DU1")
    assert (ib_order.tif, ib_order.whatIf, state.status) == ("DAY", False, "Submitted")
    name, args = status_call
    assert name == "orderStatus"
    assert args[:6] == (11, "Submitted", 40.0, 60.0, 101.2, 1000001)
    assert args[8] == 2  # clientId


def test_completed_order_decodes():
    order = _order(status="Filled", filled=100.0, completed_time="20250304 10:30:00 UTC")
    ((name, (contract, ib_order, state)),) = decode(responses.completed_order(order))
    assert name == "completedOrder"
    assert (contract.symbol, ib_order.permId, ib_order.filledQuantity) == (
        "AAPL", 1000001, 100.0)
    assert (state.status, state.completedStatus, state.completedTime) == (
        "Filled", "Filled", "20250304 10:30:00 UTC")


def test_execution_and_commission_decode():
    e = SimExecution("000f4241.00000001.01.01", _order(), 40.0, 101.2,
                     "20250304 02:30:15 UTC", 40.0, 101.2, commission=0.2)
    (exec_call, report_call) = decode(responses.exec_details(-1, e),
                                      responses.commission_report(e))
    name, (req_id, contract, execution) = exec_call
    assert name == "execDetails" and req_id == -1 and contract.symbol == "AAPL"
    assert (execution.execId, execution.side, execution.shares, execution.price) == (
        e.exec_id, "BOT", 40.0, 101.2)
    assert (execution.permId, execution.orderId, execution.clientId, execution.acctNumber) \
        == (1000001, 11, 2, "DU1")
    assert execution.time.isoformat() == "2025-03-04T02:30:15+00:00"
    name, (report,) = report_call
    assert (report.execId, report.commission, report.currency) == (e.exec_id, 0.2, "USD")


def test_contract_details_decode_with_escaped_names():
    ((name, (req_id, details)),) = decode(responses.contract_details(4, TENCENT))
    assert name == "contractDetails" and req_id == 4
    c = details.contract
    assert (c.symbol, c.exchange, c.primaryExchange, c.currency, c.conId) == (
        "700", "SEHK", "SEHK", "HKD", 700700)
    assert (details.longName, details.minTick, details.minSize) == ("腾讯控股", 0.2, 100.0)
    assert details.timeZoneId == "Asia/Hong_Kong"


def test_account_and_position_messages_decode():
    calls = decode(
        responses.position("DU1", AAPL, 10.0, 101.0),
        responses.portfolio_value(AAPL, 10.0, 102.0, 1020.0, 101.0, 10.0, 0.0, "DU1"),
        responses.account_value("NetLiquidation", 1000.5, "USD", "DU1"),
        responses.account_summary(5, "DU1", "AvailableFunds", 900.0, "USD"),
        responses.account_update_multi(8, "DU1", "RealizedPnL", 1.5, "BASE"),
        responses.account_download_end("DU1"),
        responses.error(-1, 2104, "Market data farm connection is OK"),
        responses.tick_price(3, 1, 101.0, 300.0),
        responses.tick_size(3, 8, 12345.0),
        responses.next_valid_id(12),
        responses.managed_accounts(["DU1"]),
    )
    names = [name for name, _ in calls]
    assert names == ["position", "updatePortfolio", "updateAccountValue", "accountSummary",
                     "accountUpdateMulti", "accountDownloadEnd", "error", "priceSizeTick",
                     "tickSize", "nextValidId", "managedAccounts"]
    account, contract, size, cost = calls[0][1]
    assert (account, contract.conId, size, cost) == ("DU1", 265598, 10.0, 101.0)
    assert calls[1][1][1:5] == (10.0, 102.0, 1020.0, 101.0)
    assert calls[2][1] == ("NetLiquidation", "1000.5", "USD", "DU1")
    assert calls[6][1][:3] == (-1, 2104, "Market data farm connection is OK")
    assert calls[7][1] == (3, 1, 101.0, 300.0)
    assert calls[9][1] == (12,)


# --- the security master --------------------------------------------------------------------


def test_security_master_matches_like_tws():
    master = SecurityMaster([
        define({"InstrumentID": "AAPL", "ExchangeID": "NASDAQ", "PriceTick": 0.01}),
        define({"InstrumentID": "00700", "ExchangeID": "HKEX", "PriceTick": 0.2,
                "MinLimitOrderVolume": 100}),
        define({"InstrumentID": "rb2601", "ExchangeID": "SHFE", "ProductID": "rb",
                "ExpireDate": "20260115", "VolumeMultiple": 10, "PriceTick": 1.0}),
    ])

    def find(**values):
        return [d.instrument_id for d in master.find(rq.ContractQuery(**values))]

    assert find(symbol="AAPL", sec_type="STK", exchange="SMART", currency="USD") == ["AAPL"]
    assert find(symbol="AAPL", exchange="ISLAND") == ["AAPL"]  # IB's name for NASDAQ
    assert find(symbol="AAPL", exchange="SEHK") == []
    assert find(symbol="AAPL", primary_exchange="ISLAND") == ["AAPL"]
    assert find(symbol="700", exchange="SEHK") == ["00700"]
    assert find(symbol="700", currency="USD") == []
    assert find(symbol="rb", sec_type="FUT", last_trade="202601") == ["rb2601"]
    assert find(local_symbol="rb2601") == ["rb2601"]
    con_id = master.by_instrument("AAPL").con_id
    assert find(con_id=con_id) == ["AAPL"] and find(con_id=1) == []
    assert find(symbol="NOPE") == [] and find() == []
    assert master.by_instrument("00700").lot == 100


# --- account views ------------------------------------------------------------------------


def _money(currency: str, balance: float, pre: float, close: float, profit: float,
           margin: float, available: float) -> dict:
    return {"CurrencyID": currency, "Balance": balance, "PreBalance": pre,
            "CloseProfit": close, "PositionProfit": profit, "CurrMargin": margin,
            "Available": available}


def test_account_values_per_currency_and_base():
    master = SecurityMaster([AAPL, TENCENT])
    rows = [
        {"InstrumentID": "AAPL", "PosiDirection": "2", "Position": 10, "OpenCost": 1000.0,
         "SettlementPrice": 102.0, "CloseProfit": 0.0},
        {"InstrumentID": "00700", "PosiDirection": "2", "Position": 0, "OpenCost": 0.0,
         "SettlementPrice": 480.0, "CloseProfit": 50.0},
    ]
    held = accounts.holdings(rows, master)
    assert [(h.contract.symbol, h.size, h.avg_cost, h.market_value, h.unrealized)
            for h in held] == [("AAPL", 10.0, 100.0, 1020.0, 20.0)]
    assert len(accounts.holdings(rows, master, include_flat=True)) == 2
    money = {"USD": _money("USD", 1000.0, 990.0, 0.0, 20.0, 1000.0, -10.0),
             "HKD": _money("HKD", 10050.0, 10000.0, 50.0, 0.0, 0.0, 10050.0)}
    values = {(tag, cur): v for tag, v, cur in
              accounts.account_values("DU1", "USD", money, held)}
    hkd = accounts.FX["HKD"]
    assert values[("ExchangeRate", "HKD")] == hkd and values[("ExchangeRate", "BASE")] == 1.0
    assert values[("NetLiquidation", "USD")] == pytest.approx(1000 + 10050 * hkd)
    assert values[("RealizedPnL", "BASE")] == pytest.approx(50 * hkd)
    assert values[("RealizedPnL", "HKD")] == 50.0
    assert values[("PreviousDayEquityWithLoanValue", "USD")] == pytest.approx(
        990 + 10000 * hkd)
    assert values[("GrossPositionValue", "USD")] == pytest.approx(1020.0)
    assert values[("TotalCashValue", "USD")] == pytest.approx(1000 - 1000 - 20)
    assert values[("AccountCode", "")] == "DU1"
