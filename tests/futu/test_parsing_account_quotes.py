"""Funds -> TradingAccount, positions -> InvestorPosition, quotes -> DepthMarketData,
basic info -> Instrument, market states -> trading states."""

from __future__ import annotations

import numpy as np
import pytest

from wsbridge.adapters.futu.parsing import quotes
from wsbridge.adapters.futu.parsing.account import (
    futu_currency,
    investor_position,
    number,
    trading_account,
)
from wsbridge.adapters.futu.parsing.instruments import flag, instrument
from wsbridge.protocol import catalog


def test_number_tolerates_futus_placeholders():
    assert number("N/A") == 0.0 and number(None) == 0.0 and number(float("inf")) == 0.0
    assert number(np.float64(1.5)) == 1.5 and type(number(np.float64(1.5))) is float


def test_trading_account():
    funds = {"power": 900_000.0, "total_assets": 1_050_000.0, "cash": 800_000.0,
             "market_val": 250_000.0, "frozen_cash": 5_000.0, "avl_withdrawal_cash": 795_000.0,
             "unrealized_pl": 30_000.0, "realized_pl": 20_000.0, "initial_margin": "N/A",
             "currency": "HKD"}
    row = trading_account(funds, "1000001", "HKD", "20240605", "futu")
    assert set(row) == set(catalog.fields("TradingAccount"))
    assert (row["Balance"], row["Available"], row["WithdrawQuota"]) == (
        1_050_000.0, 900_000.0, 795_000.0)
    assert (row["FrozenCash"], row["CurrMargin"]) == (5_000.0, 0.0)
    assert (row["PositionProfit"], row["CloseProfit"]) == (30_000.0, 20_000.0)
    assert row["PreBalance"] == 1_000_000.0  # Balance less today's profits
    assert (row["AccountID"], row["CurrencyID"], row["BrokerID"]) == ("1000001", "HKD", "futu")


def test_futu_currency():
    assert futu_currency("cny") == "CNH" and futu_currency("USD") == "USD"
    assert futu_currency("") == ""


def test_investor_position_long_with_shares_held_by_a_sell_order():
    position = {"code": "HK.00700", "qty": 500.0, "can_sell_qty": 300.0, "cost_price": 380.0,
                "nominal_price": 390.0, "pl_val": 5_000.0, "today_buy_qty": 200.0,
                "today_sell_qty": 0.0, "today_buy_val": 76_000.0, "realized_pl": 12.5,
                "position_side": "LONG"}
    row = investor_position(position, "00700", "HKEX", "1000001", "20240605")
    assert set(row) == set(catalog.fields("InvestorPosition"))
    assert (row["PosiDirection"], row["Position"], row["TodayPosition"], row["YdPosition"]) == (
        "2", 500, 200, 300)
    assert (row["ShortFrozen"], row["LongFrozen"]) == (200, 0)
    assert row["PositionCost"] == row["OpenCost"] == 190_000.0
    assert (row["PositionProfit"], row["CloseProfit"], row["SettlementPrice"]) == (
        5_000.0, 12.5, 390.0)


def test_investor_position_short():
    position = {"qty": -100.0, "can_sell_qty": 0.0, "cost_price": 225.0, "position_side":
                "SHORT", "today_buy_qty": "N/A", "today_sell_qty": 100.0}
    row = investor_position(position, "AAPL", "NASDAQ", "1")
    assert (row["PosiDirection"], row["Position"], row["TodayPosition"]) == ("3", 100, 100)
    assert (row["LongFrozen"], row["ShortFrozen"]) == (100, 0)


QUOTE = {"code": "HK.00700", "data_date": "2024-06-05", "data_time": "10:20:30.5",
         "last_price": 380.2, "open_price": 378.0, "high_price": 382.0, "low_price": 377.4,
         "prev_close_price": 379.0, "volume": 1_000, "turnover": 380_000.0}
BOOK = {"code": "HK.00700", "svr_recv_time_bid": "2024-06-05 10:20:31",
        "Bid": [(380.0, 500, 3, {}), (379.8, 1200, 5, {})],
        "Ask": [(380.2, 300, 1, {}), (380.4, 700, 2, {}), (380.6, 100, 1, {}),
                (380.8, 100, 1, {}), (381.0, 100, 1, {}), (381.2, 9, 1, {})]}


def test_depth_from_quote_and_book():
    depth = quotes.depth_market_data("00700", "HKEX", QUOTE, BOOK)
    assert set(depth) == set(catalog.fields("DepthMarketData"))
    assert (depth["TradingDay"], depth["ActionDay"], depth["UpdateTime"],
            depth["UpdateMillisec"]) == ("20240605", "20240605", "10:20:30", 500)
    assert (depth["LastPrice"], depth["PreClosePrice"], depth["Volume"]) == (380.2, 379.0, 1000)
    assert depth["AveragePrice"] == 380.0
    assert (depth["BidPrice1"], depth["BidVolume1"], depth["BidPrice2"]) == (380.0, 500, 379.8)
    assert (depth["BidPrice3"], depth["BidVolume3"]) == (0.0, 0)  # not sent: 0
    assert (depth["AskPrice5"], depth["AskVolume5"]) == (381.0, 100)  # 5 levels, no more


def test_depth_from_a_book_alone_and_a_quote_alone():
    book_only = quotes.depth_market_data("00700", "HKEX", None, BOOK)
    assert book_only["UpdateTime"] == "10:20:31" and book_only["LastPrice"] == 0.0
    quote_only = quotes.depth_market_data("HK.00700", "HKEX", QUOTE, None)
    assert quote_only["InstrumentID"] == "HK.00700" and quote_only["BidPrice1"] == 0.0


def test_depth_from_snapshot():
    snapshot = {"update_time": "2024-06-05 10:20:30", "last_price": 225.0, "volume": 0,
                "turnover": 0.0, "bid_price": 224.99, "ask_price": 225.01, "bid_vol": 300,
                "ask_vol": "N/A"}
    depth = quotes.depth_from_snapshot("AAPL", "NASDAQ", snapshot)
    assert (depth["BidPrice1"], depth["AskPrice1"], depth["AskVolume1"]) == (224.99, 225.01, 0)
    assert depth["AveragePrice"] == 0.0 and depth["UpdateTime"] == "10:20:30"


@pytest.mark.parametrize(("state", "status", "trading"), [
    ("MORNING", "2", True), ("AFTERNOON", "2", True), ("AUCTION", "3", True),
    ("WAITING_OPEN", "0", False), ("REST", "1", False), ("CLOSED", "6", False),
    ("NONE", "6", False), ("", "6", False), ("PRE_MARKET_BEGIN", "2", True),
])
def test_market_states(state, status, trading):
    assert quotes.instrument_status(state) == status
    assert quotes.is_trading(state) is trading


def test_instrument():
    info = {"code": "HK.00700", "name": "腾讯控股", "lot_size": 100, "listing_date": "2004-06-16",
            "delisting": False, "exchange_type": "HK_MAINBOARD"}
    row = instrument(info, "00700", "HKEX", "HK", {"price_spread": 0.2, "suspension": False},
                     "MORNING")
    assert set(row) == set(catalog.fields("Instrument"))
    assert (row["InstrumentName"], row["PriceTick"], row["MinLimitOrderVolume"]) == (
        "腾讯控股", 0.2, 100)
    assert (row["IsTrading"], row["InstLifePhase"], row["ProductClass"]) == (1, "1", "4")
    assert row["OpenDate"] == "20040616" and row["VolumeMultiple"] == 1
    closed = instrument(info, "00700", "HKEX", "HK", None, "CLOSED")
    assert closed["IsTrading"] == 0 and closed["PriceTick"] == 0.001  # HK default tick
    halted = instrument(info, "00700", "HKEX", "HK", {"suspension": np.bool_(True)}, "MORNING")
    assert (halted["IsTrading"], halted["InstLifePhase"]) == (0, "2")


def test_flag():
    assert flag(np.bool_(True)) and flag(True)
    assert not flag("N/A") and not flag(None) and not flag(np.bool_(False))
