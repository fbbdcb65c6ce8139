"""futu-api itself against a sim-opend process: no wsbridge in between.

If futu-api's own OpenQuoteContext / OpenSecTradeContext work against sim-opend, the
simulator speaks OpenD's protocol well enough for the back end (which uses the same calls).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.futu.support import SimOpend, exchange_packets, request, response, wait_for
from wsbridge.simulators.opend import protocol, protos


@pytest.fixture(scope="module")
def opend(tmp_path_factory):
    with SimOpend(tmp_path_factory.mktemp("opend")) as sim:
        yield sim


@pytest.fixture(scope="module")
def quote_ctx(futu, opend):
    ctx = futu.OpenQuoteContext(host="127.0.0.1", port=opend.port)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def pushes(futu, quote_ctx):
    """Quote and order book pushes received by quote_ctx's handlers, by code."""
    got: dict[str, dict[str, list]] = {"quote": {}, "book": {}}
    lock = threading.Lock()

    class Quotes(futu.StockQuoteHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, frame = super().on_recv_rsp(rsp_pb)
            with lock:
                for row in frame.to_dict("records"):
                    got["quote"].setdefault(row["code"], []).append(row)
            return ret, frame

    class Books(futu.OrderBookHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, book = super().on_recv_rsp(rsp_pb)
            with lock:
                got["book"].setdefault(book["code"], []).append(book)
            return ret, book

    quote_ctx.set_handler(Quotes())
    quote_ctx.set_handler(Books())
    return got


@pytest.fixture(scope="module")
def trade_ctx(futu, opend):
    ctx = futu.OpenSecTradeContext(filter_trdmarket=futu.TrdMarket.HK, host="127.0.0.1",
                                   port=opend.port)
    got: dict[str, list] = {"order": [], "deal": []}

    class Orders(futu.TradeOrderHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, frame = super().on_recv_rsp(rsp_pb)
            got["order"].extend(frame.to_dict("records"))
            return ret, frame

    class Deals(futu.TradeDealHandlerBase):
        def on_recv_rsp(self, rsp_pb):
            ret, frame = super().on_recv_rsp(rsp_pb)
            got["deal"].extend(frame.to_dict("records"))
            return ret, frame

    ctx.set_handler(Orders())
    ctx.set_handler(Deals())
    ctx.pushes = got
    yield ctx
    ctx.close()


def ok(result):
    ret, data = result
    assert ret == 0, data
    return data


def test_global_state(futu, quote_ctx):
    state = ok(quote_ctx.get_global_state())
    assert state["qot_logined"] and state["trd_logined"]
    assert state["market_hk"] == futu.MarketState.MORNING  # the sim trades around the clock


def test_stock_basic_info_lists_the_sim_stocks(futu, quote_ctx):
    hk = ok(quote_ctx.get_stock_basicinfo(futu.Market.HK, futu.SecurityType.STOCK))
    tencent = hk[hk.code == "HK.00700"].iloc[0]
    assert tencent.lot_size == 100 and tencent.exchange_type == "HK_MAINBOARD"
    us = ok(quote_ctx.get_stock_basicinfo(futu.Market.US, code_list=["US.AAPL"]))
    assert list(us.exchange_type) == ["US_NASDAQ"]
    cn = ok(quote_ctx.get_stock_basicinfo(futu.Market.SH, code_list=["SH.600000",
                                                                     "SZ.000001"]))
    assert set(cn.code) == {"SH.600000", "SZ.000001"}


def test_subscribe_pushes_quotes_and_order_books(futu, quote_ctx, pushes):
    ok(quote_ctx.subscribe(["HK.00700"], [futu.SubType.QUOTE, futu.SubType.ORDER_BOOK]))
    wait_for(lambda: len(pushes["quote"].get("HK.00700", [])) >= 2, what="quote pushes")
    wait_for(lambda: len(pushes["book"].get("HK.00700", [])) >= 2, what="book pushes")
    quote = pushes["quote"]["HK.00700"][-1]
    assert quote["last_price"] > 0 and quote["volume"] > 0
    assert quote["data_date"] and quote["data_time"]
    book = pushes["book"]["HK.00700"][-1]
    bids, asks = [p for p, *_ in book["Bid"]], [p for p, *_ in book["Ask"]]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    subs = ok(quote_ctx.query_subscription())
    assert subs["total_used"] == 2


def test_order_book_and_snapshot_reads(futu, quote_ctx):
    ok(quote_ctx.subscribe(["US.AAPL"], [futu.SubType.ORDER_BOOK]))
    book = ok(quote_ctx.get_order_book("US.AAPL", num=3))
    assert len(book["Bid"]) == len(book["Ask"]) == 3
    snapshot = ok(quote_ctx.get_market_snapshot(["US.AAPL", "SZ.000001"]))
    assert list(snapshot.code) == ["US.AAPL", "SZ.000001"]
    assert (snapshot.last_price > 0).all() and (snapshot.lot_size > 0).all()
    assert (snapshot.bid_price < snapshot.ask_price).all()
    states = ok(quote_ctx.get_market_state(["US.AAPL"]))
    assert list(states.market_state) == [futu.MarketState.MORNING]


def test_reading_an_unsubscribed_book_is_refused(quote_ctx):
    ret, msg = quote_ctx.get_order_book("SH.600000", num=5)
    assert ret != 0 and "subscribe" in msg


def test_unknown_code_is_an_error(futu, quote_ctx):
    ret, msg = quote_ctx.get_market_snapshot(["HK.99999"])
    assert ret != 0 and "Unknown stock HK.99999" in msg
    ret, msg = quote_ctx.subscribe(["US.NOPE"], [futu.SubType.QUOTE])
    assert ret != 0 and "Unknown stock" in msg


def test_accounts_and_funds(futu, trade_ctx):
    accounts = ok(trade_ctx.get_acc_list())
    assert set(accounts.trd_env) == {"SIMULATE", "REAL"}
    funds = ok(trade_ctx.accinfo_query(trd_env=futu.TrdEnv.SIMULATE))
    row = funds.iloc[0]
    assert row.total_assets > 0 and row.power > 0 and row.currency == "HKD"
    usd = ok(trade_ctx.accinfo_query(trd_env=futu.TrdEnv.SIMULATE,
                                     currency=futu.Currency.USD)).iloc[0]
    assert usd.currency == "USD"


def buy_price(futu, quote_ctx, code: str, through: float) -> float:
    """A limit price ``through`` times the ask (above it: fills; below the bid: rests)."""
    snap = ok(quote_ctx.get_market_snapshot([code])).iloc[0]
    tick = snap.price_spread
    return round(round(snap.ask_price * through / tick) * tick, 4)


def test_limit_order_fills_with_order_and_deal_pushes(futu, quote_ctx, trade_ctx):
    before = ok(trade_ctx.accinfo_query(trd_env=futu.TrdEnv.SIMULATE)).iloc[0]
    price = buy_price(futu, quote_ctx, "HK.00700", 1.02)
    placed = ok(trade_ctx.place_order(price=price, qty=200, code="HK.00700",
                                      trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.SIMULATE,
                                      remark="wsb:test"))
    order_id = placed.order_id[0]
    pushes = trade_ctx.pushes
    filled = wait_for(lambda: [o for o in pushes["order"] if o["order_id"] == order_id
                               and o["order_status"] == "FILLED_ALL"], what="fill push")
    assert filled[0]["dealt_qty"] == 200 and filled[0]["remark"] == "wsb:test"
    assert 0 < filled[0]["dealt_avg_price"] <= price
    deals = wait_for(lambda: [d for d in pushes["deal"] if d["order_id"] == order_id],
                     what="deal push")
    assert sum(d["qty"] for d in deals) == 200
    assert all(d["price"] <= price for d in deals)
    listed = ok(trade_ctx.deal_list_query(trd_env=futu.TrdEnv.SIMULATE))
    assert {str(d["deal_id"]) for d in deals} <= set(map(str, listed.deal_id))
    positions = ok(trade_ctx.position_list_query(trd_env=futu.TrdEnv.SIMULATE))
    tencent = positions[positions.code == "HK.00700"].iloc[0]
    assert tencent.qty >= 200 and tencent.position_side == "LONG"
    after = ok(trade_ctx.accinfo_query(trd_env=futu.TrdEnv.SIMULATE)).iloc[0]
    assert after.cash < before.cash and after.market_val > before.market_val


def test_cancel_a_resting_order_pushes_the_cancel(futu, quote_ctx, trade_ctx):
    price = buy_price(futu, quote_ctx, "HK.00700", 0.9)
    placed = ok(trade_ctx.place_order(price=price, qty=100, code="HK.00700",
                                      trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.SIMULATE))
    order_id = placed.order_id[0]
    assert placed.order_status[0] == "SUBMITTED"
    ok(trade_ctx.modify_order(futu.ModifyOrderOp.CANCEL, order_id, 0, 0,
                              trd_env=futu.TrdEnv.SIMULATE))
    wait_for(lambda: [o for o in trade_ctx.pushes["order"] if o["order_id"] == order_id
                      and o["order_status"] == "CANCELLED_ALL"], what="cancel push")
    orders = ok(trade_ctx.order_list_query(order_id=order_id, trd_env=futu.TrdEnv.SIMULATE))
    assert list(orders.order_status) == ["CANCELLED_ALL"]
    ret, msg = trade_ctx.modify_order(futu.ModifyOrderOp.CANCEL, order_id, 0, 0,
                                      trd_env=futu.TrdEnv.SIMULATE)
    assert ret != 0 and "does not allow" in msg
    ret, msg = trade_ctx.modify_order(futu.ModifyOrderOp.CANCEL, "999999", 0, 0,
                                      trd_env=futu.TrdEnv.SIMULATE)
    assert ret != 0 and "does not exist" in msg


def test_order_refusals_carry_opend_style_text(futu, trade_ctx):
    ret, msg = trade_ctx.place_order(price=400.0, qty=150, code="HK.00700",
                                     trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.SIMULATE)
    assert ret != 0 and msg.startswith("Invalid order")  # not a board lot of 100
    ret, msg = trade_ctx.place_order(price=1.0, qty=100, code="HK.99999",
                                     trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.SIMULATE)
    assert ret != 0 and "Unknown stock" in msg
    ret, msg = trade_ctx.place_order(price=400.0, qty=10_000_000, code="HK.00700",
                                     trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.SIMULATE)
    assert ret != 0 and "Insufficient buying power" in msg


def test_real_trading_needs_unlock(futu, quote_ctx, trade_ctx):
    price = buy_price(futu, quote_ctx, "HK.00700", 0.9)
    ret, msg = trade_ctx.place_order(price=price, qty=100, code="HK.00700",
                                     trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.REAL)
    assert ret != 0 and "unlock" in msg
    ret, msg = trade_ctx.unlock_trade(password="wrong")
    assert ret != 0 and "wrong password" in msg
    ok(trade_ctx.unlock_trade(password="123456"))
    placed = ok(trade_ctx.place_order(price=price, qty=100, code="HK.00700",
                                      trd_side=futu.TrdSide.BUY, trd_env=futu.TrdEnv.REAL))
    ok(trade_ctx.modify_order(futu.ModifyOrderOp.CANCEL, placed.order_id[0], 0, 0,
                              trd_env=futu.TrdEnv.REAL))


# --- the wire, without futu-api ---------------------------------------------------------------

def test_requests_before_init_connect_are_refused(opend):
    (packet,) = exchange_packets(opend.port, request(protos.GET_GLOBAL_STATE, 7, userID=0),
                                 count=1)
    assert packet.serial_no == 7
    answer = response(packet)
    assert answer.retType == -1 and "InitConnect" in answer.retMsg


def test_json_bodies_are_served(opend):
    init = request(protos.INIT_CONNECT, 1, protocol.FMT_JSON, clientVer=100, clientID="t",
                   packetEncAlgo=-1)
    state = request(protos.GET_GLOBAL_STATE, 2, protocol.FMT_JSON, userID=0)
    first, second = exchange_packets(opend.port, init, state, count=2)
    assert first.fmt == protocol.FMT_JSON and response(first).retType == 0
    assert response(second).s2c.qotLogined


def test_encrypted_clients_are_told_no(opend):
    init = request(protos.INIT_CONNECT, 1, clientVer=100, clientID="t", packetEncAlgo=2)
    (packet,) = exchange_packets(opend.port, init, count=1)
    assert "encrypt" in response(packet).retMsg


def test_garbage_closes_only_that_connection(futu, opend, quote_ctx):
    with socket.create_connection(("127.0.0.1", opend.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\0" * 64)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sock.recv(4096):
            pass
    ok(quote_ctx.get_global_state())  # the other clients are fine


@pytest.mark.parametrize(("argv", "complaint"), [
    (["--port", "70000"], "--port"), (["--tick-ms", "0"], "--tick-ms"),
    (["--unlock-password", ""], "--unlock-password"),
])
def test_cli_checks_its_options(capsys, argv, complaint):
    from wsbridge.simulators.opend.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2 and complaint in capsys.readouterr().err


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(sorted(protos.MODULES)), st.binary(max_size=64)),
                min_size=1, max_size=6))
def test_any_body_is_answered_and_the_connection_survives(opend, packets):
    init = request(protos.INIT_CONNECT, 1, clientVer=100, clientID="fuzz", packetEncAlgo=-1)
    junk = [protocol.encode_packet(proto_id, 10 + i, body)
            for i, (proto_id, body) in enumerate(packets)]
    alive = request(protos.KEEP_ALIVE, 99, time=1)
    answers = exchange_packets(opend.port, init, *junk, alive, count=len(junk) + 2)
    assert [a.serial_no for a in answers] == [1, *range(10, 10 + len(junk)), 99]
    for answer in answers:
        parsed = response(answer)
        assert parsed.retType in (0, -1) and not parsed.retMsg.startswith("internal")
    assert response(answers[-1]).retType == 0


def test_trade_requests_for_accounts_opend_does_not_have(opend):
    init = request(protos.INIT_CONNECT, 1, clientVer=100, clientID="t", packetEncAlgo=-1)
    funds = protos.request_class(protos.TRD_GET_FUNDS)()
    funds.c2s.header.trdEnv, funds.c2s.header.accID, funds.c2s.header.trdMarket = 0, 42, 1
    yen = protos.request_class(protos.TRD_GET_FUNDS)()
    yen.c2s.header.trdEnv, yen.c2s.header.accID, yen.c2s.header.trdMarket = 0, 1_000_001, 1
    yen.c2s.currency = 4
    packets = [protocol.encode_packet(protos.TRD_GET_FUNDS, n, m.SerializeToString())
               for n, m in ((2, funds), (3, yen))]
    _, unknown, jpy = exchange_packets(opend.port, init, *packets, count=3)
    assert "Nonexistent account: 42" in response(unknown).retMsg
    assert "currency" in response(jpy).retMsg


CODES = st.sampled_from(["00700", "00700", "AAPL", "600000", "000001", "99999", "",
                         "x" * 40])
MARKETS = st.sampled_from([0, 1, 2, 11, 21, 22, 31, -5, 999])
NUMBERS = st.floats(allow_nan=True, allow_infinity=True)


@st.composite
def odd_request(draw):
    """A well-formed request with odd values, for the handlers' own checks."""
    proto_id = draw(st.sampled_from([protos.QOT_SUB, protos.QOT_GET_ORDER_BOOK,
                                     protos.QOT_GET_STATIC_INFO, protos.TRD_PLACE_ORDER,
                                     protos.TRD_MODIFY_ORDER, protos.TRD_GET_ORDER_LIST]))
    message = protos.request_class(proto_id)()
    c2s = message.c2s
    if proto_id in (protos.TRD_PLACE_ORDER, protos.TRD_MODIFY_ORDER,
                    protos.TRD_GET_ORDER_LIST):
        c2s.header.trdEnv = draw(st.sampled_from([0, 0, 0, 1, 7]))  # mostly valid
        c2s.header.accID = draw(st.sampled_from([1_000_001, 1_000_001, 2_000_001, 5]))
        c2s.header.trdMarket = draw(st.integers(-1, 20))
    if proto_id == protos.QOT_SUB:
        for _ in range(draw(st.integers(0, 3))):
            sec = c2s.securityList.add()
            sec.market, sec.code = draw(MARKETS), draw(CODES)
        c2s.subTypeList.extend(draw(st.lists(st.integers(-3, 25), max_size=3)))
        c2s.isSubOrUnSub = draw(st.booleans())
        c2s.isRegOrUnRegPush = draw(st.booleans())
        c2s.isFirstPush = draw(st.booleans())
        c2s.isUnsubAll = draw(st.booleans())
    elif proto_id == protos.QOT_GET_ORDER_BOOK:
        c2s.security.market, c2s.security.code = draw(MARKETS), draw(CODES)
        c2s.num = draw(st.integers(-10, 100))
    elif proto_id == protos.QOT_GET_STATIC_INFO:
        c2s.market, c2s.secType = draw(MARKETS), draw(st.integers(-1, 12))
    elif proto_id == protos.TRD_PLACE_ORDER:
        c2s.packetID.connID, c2s.packetID.serialNo = 1, 1
        c2s.trdSide = draw(st.sampled_from([1, 2, 3, 4, 0, 9]))
        c2s.orderType = draw(st.sampled_from([1, 2, 5, 8, 9, 0, 6, 14]))
        c2s.code = draw(CODES)
        c2s.qty, c2s.price = draw(NUMBERS), draw(NUMBERS)
        c2s.secMarket = draw(st.sampled_from([1, 1, 2, 31, 32, 0, 77]))
        c2s.timeInForce = draw(st.integers(-1, 4))
    elif proto_id == protos.TRD_MODIFY_ORDER:
        c2s.packetID.connID, c2s.packetID.serialNo = 1, 1
        c2s.orderID = draw(st.integers(0, 2**63))
        c2s.modifyOrderOp = draw(st.sampled_from([2, 2, 1, -1, 6]))
        c2s.forAll = draw(st.booleans())
        c2s.orderIDEx = draw(st.sampled_from(["", "1", "abc", "99999999999999999999"]))
    else:
        c2s.filterStatusList.extend(draw(st.lists(st.integers(-2, 30), max_size=3)))
    return proto_id, message.SerializeToString()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(odd_request(), min_size=1, max_size=5))
def test_odd_values_are_refused_not_crashed_on(opend, packets):
    init = request(protos.INIT_CONNECT, 1, clientVer=100, clientID="odd", packetEncAlgo=-1)
    wire = [protocol.encode_packet(proto_id, 10 + i, body)
            for i, (proto_id, body) in enumerate(packets)]
    answers = exchange_packets(opend.port, init, *wire, count=len(wire) + 1)
    for answer in answers[1:]:
        parsed = response(answer)
        assert not parsed.retMsg.startswith("internal"), parsed.retMsg


@pytest.mark.parametrize(("qty", "price", "complaint"), [
    (float("nan"), 400.0, "quantity"), (float("inf"), 400.0, "quantity"),
    (-100, 400.0, "quantity"), (1e30, 400.0, "Invalid order"),
    (100, float("nan"), "Invalid order"), (100, -1.0, "Invalid order"),
])
def test_odd_order_values(opend, qty, price, complaint):
    init = request(protos.INIT_CONNECT, 1, clientVer=100, clientID="t", packetEncAlgo=-1)
    place = protos.request_class(protos.TRD_PLACE_ORDER)()
    c2s = place.c2s
    c2s.packetID.connID, c2s.packetID.serialNo = 1, 1
    c2s.header.trdEnv, c2s.header.accID, c2s.header.trdMarket = 0, 1_000_001, 1
    c2s.trdSide, c2s.orderType, c2s.code, c2s.secMarket = 1, 1, "00700", 1
    c2s.qty, c2s.price = qty, price
    wire = protocol.encode_packet(protos.TRD_PLACE_ORDER, 2, place.SerializeToString())
    _, answer = exchange_packets(opend.port, init, wire, count=2)
    parsed = response(answer)
    assert parsed.retType == -1 and complaint in parsed.retMsg, parsed.retMsg
