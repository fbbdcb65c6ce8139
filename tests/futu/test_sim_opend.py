"""futu-api itself against a sim-opend process: no wsbridge in between.

If futu-api's own OpenQuoteContext / OpenSecTradeContext work against sim-opend, the
simulator speaks OpenD's protocol well enough for the back end (which uses the same calls).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.futu.conftest import SimOpend, wait_for
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

def exchange_packets(port: int, *packets: bytes, count: int) -> list[protocol.Packet]:
    reader = protocol.PacketReader()
    got: list[protocol.Packet] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for packet in packets:
            sock.sendall(packet)
        while len(got) < count:
            data = sock.recv(65536)
            if not data:
                break
            got.extend(reader.feed(data))
    return got


def request(proto_id: int, serial: int, fmt: int = protocol.FMT_PROTOBUF, **c2s) -> bytes:
    message = protos.request_class(proto_id)()
    for key, value in c2s.items():
        setattr(message.c2s, key, value)
    return protocol.encode_packet(proto_id, serial, protocol.serialize_body(message, fmt), fmt)


def response(packet: protocol.Packet):
    return protocol.parse_body(protos.response_class(packet.proto_id), packet.body, packet.fmt)


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
