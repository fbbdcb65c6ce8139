"""IB's view of a sim exchange account: net positions and tagged account values. Pure.

The exchange keeps money per currency (CThostFtdcTradingAccountField rows); TWS reports
each currency's values plus a ``BASE`` aggregate and the account-level values in the base
currency. Conversion uses fixed rates (:data:`FX`).
"""

from __future__ import annotations

from dataclasses import dataclass

from wsbridge.simulators.tws.contracts import ContractDef, SecurityMaster

#: Value of one unit of a currency in US dollars (the simulator's fixed rates).
FX: dict[str, float] = {"USD": 1.0, "HKD": 0.128, "CNY": 0.138, "CNH": 0.138, "EUR": 1.08,
                        "GBP": 1.27, "JPY": 0.0067}
LONG, SHORT = "2", "3"

Value = tuple[str, float | str, str]  # (tag, value, currency)


@dataclass(frozen=True, slots=True)
class Holding:
    """A net position as TWS reports it (position and portfolio messages)."""

    contract: ContractDef
    size: float
    avg_cost: float  # per unit, multiplier included (IB's averageCost)
    market_price: float
    market_value: float
    unrealized: float
    realized: float


def holdings(rows: list[dict], master: SecurityMaster, include_flat: bool = False
             ) -> list[Holding]:
    """Net positions from InvestorPosition rows (long and short, today and history)."""
    by_instrument: dict[str, list[dict]] = {}
    for row in rows:
        by_instrument.setdefault(row["InstrumentID"], []).append(row)
    out = []
    for iid, group in by_instrument.items():
        contract = master.by_instrument(iid)
        if contract is None:
            continue
        long = [r for r in group if r["PosiDirection"] == LONG]
        short = [r for r in group if r["PosiDirection"] == SHORT]
        size = sum(r["Position"] for r in long) - sum(r["Position"] for r in short)
        if not size and not include_flat:
            continue
        side = long if size >= 0 else short
        volume = sum(r["Position"] for r in side)
        avg = sum(r["OpenCost"] for r in side) / volume if volume else 0.0
        price = group[0]["SettlementPrice"]  # the exchange's mark: its last price
        value = size * price * float(contract.multiplier or 1)
        out.append(Holding(contract, float(size), avg, price, value, value - size * avg,
                           sum(r["CloseProfit"] for r in group)))
    return out


def account_values(account: str, base: str, money: dict[str, dict],
                   held: list[Holding]) -> list[Value]:
    """What reqAccountUpdates reports, from the exchange's money per currency."""
    base_rate = FX.get(base, 1.0)
    values: list[Value] = [("AccountCode", account, ""), ("AccountType", "INDIVIDUAL", ""),
                           ("AccountReady", "true", ""), ("Currency", base, base)]
    total: dict[str, float] = {}
    for currency, m in money.items():
        rate = FX.get(currency, 1.0) / base_rate
        gross = sum(abs(h.market_value) for h in held if h.contract.currency == currency)
        cash = m["Balance"] - m["CurrMargin"] - m["PositionProfit"]
        per = {"CashBalance": cash, "TotalCashValue": cash,
               "NetLiquidationByCurrency": m["Balance"], "RealizedPnL": m["CloseProfit"],
               "UnrealizedPnL": m["PositionProfit"]}
        values += [(tag, round(v, 6), currency) for tag, v in per.items()]
        values.append(("ExchangeRate", rate, currency))
        for key, v in (("NetLiquidation", m["Balance"]), ("AvailableFunds", m["Available"]),
                       ("InitMarginReq", m["CurrMargin"]),
                       ("PreviousDayEquityWithLoanValue", m["PreBalance"]),
                       ("GrossPositionValue", gross), *per.items()):
            total[key] = total.get(key, 0.0) + v * rate
    values += [(tag, round(total.get(tag, 0.0), 6), "BASE")
               for tag in ("CashBalance", "TotalCashValue", "NetLiquidationByCurrency",
                           "RealizedPnL", "UnrealizedPnL")]
    values.append(("ExchangeRate", 1.0, "BASE"))
    net, available = total.get("NetLiquidation", 0.0), total.get("AvailableFunds", 0.0)
    margin = total.get("InitMarginReq", 0.0)
    account_level = {
        "NetLiquidation": net, "EquityWithLoanValue": net,
        "AvailableFunds": available, "ExcessLiquidity": available, "BuyingPower": available,
        "FullAvailableFunds": available, "FullExcessLiquidity": available,
        "InitMarginReq": margin, "MaintMarginReq": margin, "FullInitMarginReq": margin,
        "FullMaintMarginReq": margin,
        "PreviousDayEquityWithLoanValue": total.get("PreviousDayEquityWithLoanValue", 0.0),
        "GrossPositionValue": total.get("GrossPositionValue", 0.0),
    }
    values += [(tag, round(v, 6), base) for tag, v in account_level.items()]
    return values
