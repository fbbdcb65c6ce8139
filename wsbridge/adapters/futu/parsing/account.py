"""Futu funds -> TradingAccount and Futu positions -> InvestorPosition.

Input rows are as futu-api returns them (``accinfo_query`` / ``position_list_query``
DataFrame rows as dicts); fields Futu leaves out arrive as ``"N/A"`` and count as 0.
"""

from __future__ import annotations

import math

from wsbridge.protocol import catalog

LONG, SHORT = "2", "3"  # PosiDirection
TODAY = "1"  # PositionDate: one row per instrument and side
SPECULATION = "1"

# Currencies a client may name -> Futu's (CTP CurrencyID CNY is Futu's CNH).
CURRENCY_ALIASES = {"CNY": "CNH", "RMB": "CNH"}


def number(value: object) -> float:
    """A float from a Futu field; ``"N/A"``, None and non-finite values are 0."""
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return result if math.isfinite(result) else 0.0


def futu_currency(currency_id: str) -> str:
    """The Futu Currency name for a CTP CurrencyID (``"CNY"`` -> ``"CNH"``)."""
    currency = (currency_id or "").strip().upper()
    return CURRENCY_ALIASES.get(currency, currency)


def trading_account(funds: dict, account_id: str, currency: str, trading_day: str = "",
                    broker_id: str = "") -> dict:
    """A CThostFtdcTradingAccountField dict from one ``accinfo_query`` row.

    Balance is Futu's total assets, Available its buying power (``power``), WithdrawQuota
    the cash that can be withdrawn, CurrMargin Futu's initial margin (0 for cash accounts);
    PreBalance is Balance less today's realized and unrealized profit.
    """
    total = number(funds.get("total_assets"))
    return catalog.filled("TradingAccount", {
        "BrokerID": broker_id,
        "AccountID": account_id,
        "CurrencyID": currency,
        "TradingDay": trading_day,
        "Balance": total,
        "PreBalance": total - number(funds.get("unrealized_pl")) - number(
            funds.get("realized_pl")),
        "Available": number(funds.get("power")),
        "WithdrawQuota": number(funds.get("avl_withdrawal_cash")),
        "FrozenCash": number(funds.get("frozen_cash")),
        "CurrMargin": number(funds.get("initial_margin")),
        "PositionProfit": number(funds.get("unrealized_pl")),
        "CloseProfit": number(funds.get("realized_pl")),
    })


def investor_position(position: dict, instrument_id: str, exchange_id: str,
                      investor_id: str, trading_day: str = "", broker_id: str = "") -> dict:
    """A CThostFtdcInvestorPositionField dict from one ``position_list_query`` row.

    Position is Futu's qty (shares); what cannot be sold now (held by working sell orders,
    or bought today where T+1 applies) is reported frozen: ShortFrozen on a long row,
    LongFrozen on a short one. TodayPosition is today's buys that are still held.
    """
    side = SHORT if str(position.get("position_side", "")).upper() == "SHORT" else LONG
    qty = abs(round(number(position.get("qty"))))
    can_sell = abs(round(number(position.get("can_sell_qty"))))
    frozen = max(qty - can_sell, 0)
    today = min(qty, round(number(position.get("today_buy_qty")) if side == LONG
                           else number(position.get("today_sell_qty"))))
    cost_price = number(position.get("cost_price"))
    cost = cost_price * qty
    return catalog.filled("InvestorPosition", {
        "BrokerID": broker_id,
        "InvestorID": investor_id,
        "InstrumentID": instrument_id,
        "ExchangeID": exchange_id,
        "PosiDirection": side,
        "HedgeFlag": SPECULATION,
        "PositionDate": TODAY,
        "Position": qty,
        "TodayPosition": max(today, 0),
        "YdPosition": qty - max(today, 0),
        "ShortFrozen": frozen if side == LONG else 0,
        "LongFrozen": frozen if side == SHORT else 0,
        "PositionCost": cost,
        "OpenCost": cost,
        "PositionProfit": number(position.get("pl_val")),
        "CloseProfit": number(position.get("realized_pl")),
        "SettlementPrice": number(position.get("nominal_price")),
        "OpenVolume": round(number(position.get("today_buy_qty"))),
        "CloseVolume": round(number(position.get("today_sell_qty"))),
        "OpenAmount": number(position.get("today_buy_val")),
        "CloseAmount": number(position.get("today_sell_val")),
        "TradingDay": trading_day,
    })
