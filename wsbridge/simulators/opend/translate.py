"""The sim exchange's CTP dicts <-> OpenD's protobuf fields. Pure functions, plain dicts.

Every output is a dict keyed by protobuf field names, ready for
``google.protobuf.json_format.ParseDict`` into futu-api's message classes. Enum numbers
are OpenD's (see futu/common/pb/*.proto).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

# Qot_Common.QotMarket / Trd_Common.TrdSecMarket / Trd_Common.TrdMarket.
QOT_MARKET = {"HK": 1, "US": 11, "SH": 21, "SZ": 22}
MARKET_OF_QOT = {v: k for k, v in QOT_MARKET.items()}
SEC_MARKET = {"HK": 1, "US": 2, "SH": 31, "SZ": 32}
MARKET_OF_SEC = {v: k for k, v in SEC_MARKET.items()}
TRD_MARKET_HK, TRD_MARKET_US, TRD_MARKET_CN, TRD_MARKET_HKCC = 1, 2, 3, 4
EXCHANGE_MARKET = {"HKEX": "HK", "NASDAQ": "US", "NYSE": "US", "AMEX": "US",
                   "SSE": "SH", "SZSE": "SZ"}
EXCH_TYPE = {"HKEX": 1, "NYSE": 4, "NASDAQ": 5, "AMEX": 7, "SSE": 14, "SZSE": 15}
# Trd_Common.Currency; the sim exchange says CNY where Futu says CNH.
CURRENCY = {"HKD": 1, "USD": 2, "CNY": 3, "JPY": 4, "SGD": 5, "AUD": 6, "CAD": 7, "MYR": 8}
CURRENCY_OF = {v: k for k, v in CURRENCY.items()}

# Trd_Common.TrdSide <-> CTP (Direction, offset).
TRD_SIDE_BUY, TRD_SIDE_SELL, TRD_SIDE_SELL_SHORT, TRD_SIDE_BUY_BACK = 1, 2, 3, 4
SIDE_TO_CTP = {1: ("0", "0"), 2: ("1", "1"), 3: ("1", "0"), 4: ("0", "1")}

# Trd_Common.OrderType -> CTP (OrderPriceType, TimeCondition, VolumeCondition).
ORDER_TYPE_NORMAL, ORDER_TYPE_MARKET = 1, 2
ORDER_TYPE_ABSOLUTE_LIMIT, ORDER_TYPE_SPECIAL_LIMIT, ORDER_TYPE_SPECIAL_LIMIT_ALL = 5, 8, 9
ORDER_TYPE_TO_CTP = {
    1: ("2", "3", "1"), 5: ("2", "3", "1"), 2: ("1", "1", "1"),
    8: ("2", "1", "1"), 9: ("2", "1", "3"),
}
TIME_IN_FORCE_GTC = 1

# Trd_Common.OrderStatus.
OS_SUBMITTING, OS_SUBMITTED, OS_FILLED_PART, OS_FILLED_ALL = 2, 5, 10, 11
OS_CANCELLED_PART, OS_CANCELLED_ALL, OS_FAILED = 14, 15, 21

# Qot_Common.QotMarketState: the sim trades around the clock.
MARKET_STATE_TRADING = 3  # QotMarketState_Morning
SECURITY_TYPE_EQUITY = 3
SUB_TYPE_BASIC, SUB_TYPE_ORDER_BOOK = 1, 2
POSITION_LONG, POSITION_SHORT = 0, 1


@dataclass(frozen=True, slots=True)
class Stock:
    """A sim exchange stock as OpenD lists it."""

    market: str  # HK / US / SH / SZ
    symbol: str  # Futu code without the market: 00700, AAPL
    instrument_id: str
    exchange_id: str
    name: str
    lot: int
    tick: float
    currency: str  # the sim's: HKD / USD / CNY

    @property
    def code(self) -> str:
        return f"{self.market}.{self.symbol}"

    @property
    def stock_id(self) -> int:
        return stable_id(self.code)

    def security(self) -> dict:
        return {"market": QOT_MARKET[self.market], "code": self.symbol}


def stable_id(text: str) -> int:
    """A deterministic positive 64-bit id for a text (stock ids, position ids)."""
    return (zlib.crc32(text.encode()) << 16) | (zlib.adler32(text.encode()) & 0xFFFF)


def order_id_of(sys_id: str) -> int:
    """Futu's numeric order id for a sim OrderSysID (numeric text)."""
    text = sys_id.strip()
    if text.isascii() and text.isdigit() and int(text) < 2**63:
        return int(text)
    return stable_id(text)


def futu_time(date: str, clock: str, millis: int | None = None) -> str:
    """CTP ``20240605`` + ``10:20:30`` -> Futu ``2024-06-05 10:20:30[.123]``."""
    if len(date) == 8:
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    stamp = f"{date} {clock}".strip()
    return stamp if millis is None else f"{stamp}.{millis:03d}"


def trd_side(direction: str, offset: str) -> int:
    """Futu TrdSide for a CTP Direction and (first) offset flag."""
    opening = offset in ("", "0")
    if direction == "0":
        return TRD_SIDE_BUY if opening else TRD_SIDE_BUY_BACK
    return TRD_SIDE_SELL_SHORT if opening else TRD_SIDE_SELL


def order_type(price_type: str, time_condition: str, volume_condition: str) -> int:
    """Futu OrderType for CTP price/time/volume conditions."""
    if price_type == "1":
        return ORDER_TYPE_MARKET
    if time_condition == "1":
        return ORDER_TYPE_SPECIAL_LIMIT_ALL if volume_condition == "3" else (
            ORDER_TYPE_SPECIAL_LIMIT)
    return ORDER_TYPE_NORMAL


def order_status(order: dict) -> int:
    """Futu OrderStatus for a CTP Order."""
    status, traded = order.get("OrderStatus"), int(order.get("VolumeTraded") or 0)
    if order.get("OrderSubmitStatus") == "4":
        return OS_FAILED
    if status == "0":
        return OS_FILLED_ALL
    if status in ("1", "2"):
        return OS_FILLED_PART
    if status == "3":
        return OS_SUBMITTED
    if status == "5":
        return OS_CANCELLED_PART if traded else OS_CANCELLED_ALL
    return OS_SUBMITTING


def input_order(stock: Stock, side: int, kind: int, qty: int, price: float,
                time_in_force: int) -> dict:
    """The CTP InputOrder for a Futu place order (the caller checked side/kind/qty)."""
    direction, offset = SIDE_TO_CTP[side]
    price_type, time_condition, volume_condition = ORDER_TYPE_TO_CTP[kind]
    if time_condition == "3" and time_in_force == TIME_IN_FORCE_GTC:
        time_condition = "5"
    return {
        "InstrumentID": stock.instrument_id, "ExchangeID": stock.exchange_id,
        "Direction": direction, "CombOffsetFlag": offset, "CombHedgeFlag": "1",
        "OrderPriceType": price_type, "TimeCondition": time_condition,
        "VolumeCondition": volume_condition, "ContingentCondition": "1",
        "LimitPrice": price if price_type == "2" else 0.0, "VolumeTotalOriginal": qty,
        "MinVolume": qty if volume_condition == "3" else 1, "ForceCloseReason": "0",
    }


def order(stock: Stock, ctp: dict, remark: str, fill_avg: float, trd_market: int) -> dict:
    """A Trd_Common.Order from a CTP Order."""
    created = futu_time(ctp.get("InsertDate", ""), ctp.get("InsertTime", ""))
    updated_clock = ctp.get("CancelTime") or ctp.get("UpdateTime") or ctp.get("InsertTime", "")
    updated = futu_time(ctp.get("InsertDate", ""), updated_clock)
    sys_id = str(ctp.get("OrderSysID", "")).strip()
    status = order_status(ctp)
    out = {
        "trdSide": trd_side(ctp.get("Direction", "0"), ctp.get("CombOffsetFlag", "0")[:1]),
        "orderType": order_type(ctp.get("OrderPriceType", "2"), ctp.get("TimeCondition", "3"),
                                ctp.get("VolumeCondition", "1")),
        "orderStatus": status,
        "orderID": order_id_of(sys_id),
        "orderIDEx": sys_id,
        "code": stock.symbol,
        "name": stock.name,
        "qty": float(ctp.get("VolumeTotalOriginal") or 0),
        "price": float(ctp.get("LimitPrice") or 0.0),
        "createTime": created,
        "updateTime": updated,
        "fillQty": float(ctp.get("VolumeTraded") or 0),
        "fillAvgPrice": fill_avg,
        "lastErrMsg": ctp.get("StatusMsg", "") if status == OS_FAILED else "",
        "secMarket": SEC_MARKET[stock.market],
        "remark": remark,
        "timeInForce": TIME_IN_FORCE_GTC if ctp.get("TimeCondition") == "5" else 0,
        "currency": CURRENCY.get(stock.currency, 0),
        "trdMarket": trd_market,
    }
    return out


def order_fill(stock: Stock, trade: dict, trd_market: int) -> dict:
    """A Trd_Common.OrderFill from a CTP Trade."""
    trade_id = str(trade.get("TradeID", "")).strip()
    sys_id = str(trade.get("OrderSysID", "")).strip()
    return {
        "trdSide": trd_side(trade.get("Direction", "0"), trade.get("OffsetFlag", "0")),
        "fillID": order_id_of(trade_id),
        "fillIDEx": trade_id,
        "orderID": order_id_of(sys_id),
        "orderIDEx": sys_id,
        "code": stock.symbol,
        "name": stock.name,
        "qty": float(trade.get("Volume") or 0),
        "price": float(trade.get("Price") or 0.0),
        "createTime": futu_time(trade.get("TradeDate", ""), trade.get("TradeTime", "")),
        "secMarket": SEC_MARKET[stock.market],
        "status": 0,
        "trdMarket": trd_market,
    }


def funds(account: dict, currency: str) -> dict:
    """A Trd_Common.Funds from a CTP TradingAccount (one currency of the sim account).

    Stocks hold their cost as margin in the sim (margin ratio 1), so the market value of
    the holdings is that margin plus the position profit and cash is the rest.
    """
    balance = float(account.get("Balance") or 0.0)
    margin = float(account.get("CurrMargin") or 0.0)
    profit = float(account.get("PositionProfit") or 0.0)
    market_val = margin + profit
    frozen = sum(float(account.get(k) or 0.0)
                 for k in ("FrozenMargin", "FrozenCommission", "FrozenCash"))
    available = float(account.get("Available") or 0.0)
    withdraw = float(account.get("WithdrawQuota") or 0.0) or available
    code = CURRENCY.get(currency, 0)
    return {
        "power": available, "totalAssets": balance, "cash": balance - market_val,
        "marketVal": market_val, "frozenCash": frozen, "debtCash": 0.0,
        "avlWithdrawalCash": withdraw, "currency": code, "availableFunds": available,
        "unrealizedPL": profit, "realizedPL": float(account.get("CloseProfit") or 0.0),
        "initialMargin": margin, "maintenanceMargin": margin,
        "securitiesAssets": market_val, "longMv": market_val, "shortMv": 0.0,
        "cashInfoList": [{"currency": code, "cash": balance - market_val,
                          "availableBalance": available}],
    }


def positions(stocks: dict[str, Stock], rows: list[dict], marks: dict[str, float],
              trd_market_of: dict[str, int]) -> list[dict]:
    """Trd_Common.Position rows from CTP InvestorPosition rows, one per stock and side.

    ``stocks`` maps InstrumentID to its stock; rows of other instruments are skipped.
    """
    merged: dict[tuple[str, str], dict] = {}
    for row in rows:
        stock = stocks.get(row.get("InstrumentID", ""))
        if stock is None or not row.get("Position"):
            continue
        key = (stock.instrument_id, row.get("PosiDirection", "2"))
        acc = merged.setdefault(key, {"qty": 0, "today": 0, "frozen": 0, "cost": 0.0,
                                      "close_profit": 0.0})
        long = key[1] != "3"
        acc["qty"] += int(row["Position"])
        acc["today"] += int(row.get("TodayPosition") or 0)
        acc["frozen"] += int(row.get("ShortFrozen" if long else "LongFrozen") or 0)
        acc["cost"] += float(row.get("OpenCost") or row.get("PositionCost") or 0.0)
        acc["close_profit"] += float(row.get("CloseProfit") or 0.0)
    out = []
    for (iid, posi), acc in merged.items():
        stock = stocks[iid]
        long = posi != "3"
        qty = acc["qty"]
        price = marks.get(iid, 0.0)
        value = price * qty
        pl = value - acc["cost"] if long else acc["cost"] - value
        out.append({
            "positionID": stable_id(f"{stock.code}:{posi}"),
            "positionSide": POSITION_LONG if long else POSITION_SHORT,
            "code": stock.symbol, "name": stock.name,
            "qty": float(qty), "canSellQty": float(max(qty - acc["frozen"], 0)),
            "price": price, "costPrice": acc["cost"] / qty if qty else 0.0,
            "averageCostPrice": acc["cost"] / qty if qty else 0.0,
            "val": value, "plVal": pl,
            "plRatio": pl / acc["cost"] if acc["cost"] else 0.0,
            "secMarket": SEC_MARKET[stock.market],
            "td_buyQty": float(acc["today"] if long else 0),
            "td_sellQty": float(acc["today"] if not long else 0),
            "unrealizedPL": pl, "realizedPL": acc["close_profit"],
            "currency": CURRENCY.get(stock.currency, 0),
            "trdMarket": trd_market_of.get(stock.market, 0),
        })
    return out


def basic_quote(stock: Stock, depth: dict) -> dict:
    """A Qot_Common.BasicQot from a CTP DepthMarketData."""
    high, low = float(depth.get("HighestPrice") or 0.0), float(depth.get("LowestPrice") or 0.0)
    pre_close = float(depth.get("PreClosePrice") or 0.0)
    return {
        "security": stock.security(), "name": stock.name, "isSuspended": False,
        "listTime": "2000-01-01", "priceSpread": stock.tick,
        "updateTime": quote_time(depth),
        "highPrice": high, "openPrice": float(depth.get("OpenPrice") or 0.0),
        "lowPrice": low, "curPrice": float(depth.get("LastPrice") or 0.0),
        "lastClosePrice": pre_close, "volume": int(depth.get("Volume") or 0),
        "turnover": float(depth.get("Turnover") or 0.0), "turnoverRate": 0.0,
        "amplitude": round((high - low) / pre_close * 100, 4) if pre_close else 0.0,
    }


def quote_time(depth: dict) -> str:
    day = depth.get("ActionDay") or depth.get("TradingDay") or ""
    return futu_time(day, depth.get("UpdateTime", ""), int(depth.get("UpdateMillisec") or 0))


def order_book(stock: Stock, depth: dict, levels: int = 10) -> dict:
    """A Qot_UpdateOrderBook / Qot_GetOrderBook S2C from a CTP DepthMarketData."""
    def side(name: str) -> list[dict]:
        out = []
        for k in range(1, min(levels, 5) + 1):
            price, volume = depth.get(f"{name}Price{k}") or 0.0, depth.get(f"{name}Volume{k}")
            if volume:
                out.append({"price": float(price), "volume": int(volume), "orederCount": 1})
        return out

    stamp = quote_time(depth)
    return {"security": stock.security(), "name": stock.name,
            "orderBookAskList": side("Ask"), "orderBookBidList": side("Bid"),
            "svrRecvTimeBid": stamp, "svrRecvTimeAsk": stamp}


def snapshot(stock: Stock, depth: dict) -> dict:
    """A Qot_GetSecuritySnapshot Snapshot from a CTP DepthMarketData."""
    basic = basic_quote(stock, depth)
    return {"basic": {
        "security": basic["security"], "name": stock.name, "type": SECURITY_TYPE_EQUITY,
        "isSuspend": False, "listTime": basic["listTime"], "lotSize": stock.lot,
        "priceSpread": stock.tick, "updateTime": basic["updateTime"],
        "highPrice": basic["highPrice"], "openPrice": basic["openPrice"],
        "lowPrice": basic["lowPrice"], "lastClosePrice": basic["lastClosePrice"],
        "curPrice": basic["curPrice"], "volume": basic["volume"],
        "turnover": basic["turnover"], "turnoverRate": 0.0,
        "askPrice": float(depth.get("AskPrice1") or 0.0),
        "bidPrice": float(depth.get("BidPrice1") or 0.0),
        "askVol": int(depth.get("AskVolume1") or 0), "bidVol": int(depth.get("BidVolume1") or 0),
        "amplitude": basic["amplitude"],
        "avgPrice": float(depth.get("AveragePrice") or 0.0),
    }}


def static_info(stock: Stock) -> dict:
    """A Qot_Common.SecurityStaticInfo for a stock."""
    return {"basic": {
        "security": stock.security(), "id": stock.stock_id, "lotSize": stock.lot,
        "secType": SECURITY_TYPE_EQUITY, "name": stock.name, "listTime": "2000-01-01",
        "delisting": False, "exchType": EXCH_TYPE.get(stock.exchange_id, 0),
    }}
