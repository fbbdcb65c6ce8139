"""IB account values and positions -> TradingAccount and InvestorPosition.

IB reports an account as tagged values (NetLiquidation, AvailableFunds, ...), each in a
currency; the aggregate of a multi-currency account is the ``BASE`` one. The base currency
is the one NetLiquidation is reported in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from wsbridge.protocol import catalog

LONG, SHORT = "2", "3"
TODAY = "1"

#: TradingAccount field <- IB account tag.
ACCOUNT_TAGS: dict[str, str] = {
    "Balance": "NetLiquidation",
    "Available": "AvailableFunds",
    "WithdrawQuota": "AvailableFunds",
    "CurrMargin": "InitMarginReq",
    "ExchangeMargin": "MaintMarginReq",
    "CloseProfit": "RealizedPnL",
    "PositionProfit": "UnrealizedPnL",
    "PreBalance": "PreviousDayEquityWithLoanValue",
}


def base_currency(values: Iterable[Any]) -> str:
    """The account's base currency: the one its NetLiquidation is in."""
    for value in values:
        if value.tag == "NetLiquidation" and value.currency not in ("", "BASE"):
            return value.currency
    return ""


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def tag_values(values: Iterable[Any], account: str) -> dict[str, float]:
    """Numeric tags of one account in its base currency (``BASE`` where IB sends both)."""
    values = [v for v in values if v.account == account and not v.modelCode]
    base = base_currency(values)
    out: dict[str, float] = {}
    rank: dict[str, int] = {}
    for value in values:
        order = {"BASE": 0, base: 1}.get(value.currency, 2 if value.currency == "" else 9)
        number = _number(value.value)
        if number is None or order == 9 or order >= rank.get(value.tag, 10):
            continue
        out[value.tag], rank[value.tag] = number, order
    return out


def exchange_rates(values: Iterable[Any], account: str) -> dict[str, float]:
    """Currency -> value of one unit in the base currency (IB's ExchangeRate tags)."""
    out = {}
    for value in values:
        if value.account == account and value.tag == "ExchangeRate" \
                and value.currency not in ("", "BASE"):
            number = _number(value.value)
            if number:
                out[value.currency] = number
    return out


def account_to_ctp(values: Iterable[Any], account: str, *, broker_id: str, trading_day: str,
                   commission: float = 0.0) -> dict:
    """A CThostFtdcTradingAccountField dict from IB account values.

    ``commission`` is today's total from IB's commission reports in the base currency
    (IB has no account tag for it; see :func:`exchange_rates`). PreBalance is
    PreviousDayEquityWithLoanValue when IB sends it, else what makes
    Balance = PreBalance + CloseProfit + PositionProfit - Commission hold.
    """
    values = list(values)
    tags = tag_values(values, account)
    row = {field: tags.get(tag, 0.0) for field, tag in ACCOUNT_TAGS.items()}
    if "PreviousDayEquityWithLoanValue" not in tags:
        row["PreBalance"] = (row["Balance"] - row["CloseProfit"] - row["PositionProfit"]
                             + commission)
    row.update(BrokerID=broker_id, AccountID=account, TradingDay=trading_day,
               Commission=float(commission), CurrencyID=base_currency(values))
    return catalog.filled("TradingAccount", row)


def position_to_ctp(ids: tuple[str, str], position: float, avg_cost: float, *,
                    broker_id: str, account: str, trading_day: str,
                    market_price: float = 0.0, unrealized: float = 0.0,
                    realized: float = 0.0) -> dict | None:
    """A CThostFtdcInvestorPositionField dict for an IB position; None for a flat one.

    IB positions are net: one row, long or short, PositionDate '1'. IB's average cost
    already includes the multiplier, so PositionCost is avg_cost * |position|.
    """
    if not position:
        return None
    size = abs(position)
    cost = float(avg_cost) * size
    return catalog.filled("InvestorPosition", {
        "BrokerID": broker_id, "InvestorID": account,
        "InstrumentID": ids[0], "ExchangeID": ids[1],
        "PosiDirection": LONG if position > 0 else SHORT, "HedgeFlag": "1",
        "PositionDate": TODAY, "Position": int(size),
        "PositionCost": cost, "OpenCost": cost,
        "PositionProfit": _finite(unrealized), "CloseProfit": _finite(realized),
        "SettlementPrice": _finite(market_price), "TradingDay": trading_day,
    })


def _finite(value: float) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) \
        and abs(value) < 1e300 else 0.0
