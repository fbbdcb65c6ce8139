"""What an account looks like from outside: TradingAccount, InvestorPosition(Detail) rows.

Pure functions of the account, its working orders and the marks (last prices). The money
identities are CTP's (DESIGN.md invariants)::

    Balance   = PreBalance + Deposit - Withdraw + CloseProfit + PositionProfit - Commission
    Available = Balance - CurrMargin - FrozenMargin - FrozenCommission
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import fsum

from wsbridge.simulators.exchange import ctp
from wsbridge.simulators.exchange.accounts import Account, Lot, RowKey, row_key
from wsbridge.simulators.exchange.instruments import Instrument
from wsbridge.simulators.exchange.orders import WorkingOrder

Lookup = Callable[[str], Instrument]
Mark = Callable[[Instrument], float]


@dataclass(frozen=True, slots=True)
class Money:
    """One currency of an account."""

    currency: str
    pre_balance: float
    deposit: float
    withdraw: float
    close_profit: float
    position_profit: float
    commission: float
    curr_margin: float
    frozen_margin: float
    frozen_commission: float

    @property
    def balance(self) -> float:
        return (
            self.pre_balance + self.deposit - self.withdraw + self.close_profit
            + self.position_profit - self.commission
        )

    @property
    def available(self) -> float:
        return self.balance - self.curr_margin - self.frozen_margin - self.frozen_commission


def lot_margin(lot: Lot, inst: Instrument) -> float:
    return lot.basis * lot.volume * inst.spec.multiplier * lot.margin_ratio


def lot_profit(lot: Lot, inst: Instrument, mark: float) -> float:
    """Position profit by date: against the basis (open price today, settlement before)."""
    sign = 1.0 if lot.long else -1.0
    return sign * (mark - lot.basis) * lot.volume * inst.spec.multiplier


def money(
    account: Account, currency: str, lookup: Lookup, mark: Mark,
    working: Iterable[WorkingOrder],
) -> Money:
    """The account's money in ``currency`` at the given marks.

    Sums use ``math.fsum`` so the result does not depend on iteration order (a reloaded
    journal reports exactly what the running exchange did).
    """
    close_profit, commission = [], []
    for (iid, _, _), stats in account.stats.items():
        if lookup(iid).spec.currency == currency:
            close_profit.append(stats.close_profit_by_date)
            commission.append(stats.commission)
    position_profit, curr_margin = [], []
    for lot in account.lots.values():
        if lot.volume <= 0:
            continue
        inst = lookup(lot.instrument_id)
        if inst.spec.currency == currency:
            position_profit.append(lot_profit(lot, inst, mark(inst)))
            curr_margin.append(lot_margin(lot, inst))
    frozen_margin, frozen_commission = [], []
    for wo in working:
        if wo.account == account.key and lookup(wo.instrument_id).spec.currency == currency:
            frozen_margin.append(wo.frozen_margin())
            frozen_commission.append(wo.frozen_commission())
    return Money(
        currency=currency,
        pre_balance=account.pre_balance.get(currency, 0.0),
        deposit=account.deposit.get(currency, 0.0),
        withdraw=account.withdraw.get(currency, 0.0),
        close_profit=fsum(close_profit),
        position_profit=fsum(position_profit),
        commission=fsum(commission),
        curr_margin=fsum(curr_margin),
        frozen_margin=fsum(frozen_margin),
        frozen_commission=fsum(frozen_commission),
    )


def trading_account(account: Account, m: Money, trading_day: str) -> dict:
    """A CThostFtdcTradingAccountField dict."""
    available = m.available
    return ctp.filled(
        "TradingAccount",
        BrokerID=account.broker_id,
        AccountID=account.user_id,
        PreBalance=m.pre_balance,
        Deposit=m.deposit,
        Withdraw=m.withdraw,
        FrozenMargin=m.frozen_margin,
        FrozenCommission=m.frozen_commission,
        CurrMargin=m.curr_margin,
        ExchangeMargin=m.curr_margin,
        Commission=m.commission,
        CloseProfit=m.close_profit,
        PositionProfit=m.position_profit,
        Balance=m.balance,
        Available=available,
        WithdrawQuota=max(0.0, available),
        TradingDay=trading_day,
        SettlementID=1,
        CurrencyID=m.currency,
        BizType="1",
    )


def _frozen_by_row(
    account: Account, lookup: Lookup, working: Iterable[WorkingOrder]
) -> tuple[dict[RowKey, int], dict[RowKey, tuple[float, float]]]:
    """Volume frozen by closing orders, and money frozen by opening orders, per row."""
    volume: dict[RowKey, int] = {}
    cash: dict[RowKey, tuple[float, float]] = {}
    for wo in working:
        if wo.account != account.key or not wo.working:
            continue
        inst = lookup(wo.instrument_id)
        if wo.is_open:
            key = row_key(inst, wo.buy, today=True)
            margin, fee = cash.get(key, (0.0, 0.0))
            cash[key] = (margin + wo.frozen_margin(), fee + wo.frozen_commission())
            continue
        closes_long = not wo.buy
        for today, count in ((False, wo.close_yd), (True, wo.close_today)):
            if count:
                key = row_key(inst, closes_long, today)
                volume[key] = volume.get(key, 0) + count
    return volume, cash


def positions(
    account: Account, lookup: Lookup, mark: Mark, pre_settle: Mark,
    working: Iterable[WorkingOrder], trading_day: str,
) -> list[dict]:
    """CThostFtdcInvestorPositionField rows: one per instrument, side (and date on SHFE)."""
    working = list(working)
    lots_by_row: dict[RowKey, list[Lot]] = {}
    for lot in account.lots.values():
        if lot.volume > 0:
            inst = lookup(lot.instrument_id)
            key = row_key(inst, lot.long, lot.open_day == trading_day)
            lots_by_row.setdefault(key, []).append(lot)
    keys = [k for k, s in account.stats.items() if s.active()]
    keys += [k for k in lots_by_row if k not in account.stats or not account.stats[k].active()]
    frozen_volume, frozen_cash = _frozen_by_row(account, lookup, working)
    rows = []
    for key in sorted(keys):
        iid, posi, date = key
        inst = lookup(iid)
        mult = inst.spec.multiplier
        lots = lots_by_row.get(key, [])
        stats = account.stats.get(key)
        last = mark(inst)
        position = sum(lot.volume for lot in lots)
        today = sum(lot.volume for lot in lots if lot.open_day == trading_day)
        frozen = frozen_volume.get(key, 0)
        frozen_margin, frozen_fee = frozen_cash.get(key, (0.0, 0.0))
        long = posi == ctp.LONG
        row = ctp.filled(
            "InvestorPosition",
            InstrumentID=iid,
            BrokerID=account.broker_id,
            InvestorID=account.user_id,
            PosiDirection=posi,
            HedgeFlag=ctp.SPECULATION,
            PositionDate=date,
            YdPosition=stats.yd_position if stats else 0,
            Position=position,
            TodayPosition=today,
            LongFrozen=0 if long else frozen,  # CTP names frozen volume by the closing side
            ShortFrozen=frozen if long else 0,
            OpenVolume=stats.open_volume if stats else 0,
            CloseVolume=stats.close_volume if stats else 0,
            OpenAmount=stats.open_amount if stats else 0.0,
            CloseAmount=stats.close_amount if stats else 0.0,
            PositionCost=fsum(lot.basis * lot.volume * mult for lot in lots),
            OpenCost=fsum(lot.open_price * lot.volume * mult for lot in lots),
            UseMargin=fsum(lot_margin(lot, inst) for lot in lots),
            ExchangeMargin=fsum(lot_margin(lot, inst) for lot in lots),
            FrozenMargin=frozen_margin,
            FrozenCommission=frozen_fee,
            Commission=stats.commission if stats else 0.0,
            CloseProfit=stats.close_profit_by_date if stats else 0.0,
            CloseProfitByDate=stats.close_profit_by_date if stats else 0.0,
            CloseProfitByTrade=stats.close_profit_by_trade if stats else 0.0,
            PositionProfit=fsum(lot_profit(lot, inst, last) for lot in lots),
            PreSettlementPrice=pre_settle(inst),
            SettlementPrice=last,
            TradingDay=trading_day,
            SettlementID=1,
            MarginRateByMoney=inst.spec.margin,
            ExchangeID=inst.exchange_id,
        )
        rows.append(row)
    return rows


def details(
    account: Account, lookup: Lookup, mark: Mark, pre_settle: Mark, trading_day: str
) -> list[dict]:
    """CThostFtdcInvestorPositionDetailField rows: one per open lot."""
    rows = []
    for lot in sorted(account.lots.values(), key=lambda lot: lot.seq):
        if lot.volume <= 0:
            continue
        inst = lookup(lot.instrument_id)
        mult = inst.spec.multiplier
        last = mark(inst)
        sign = 1.0 if lot.long else -1.0
        margin = lot_margin(lot, inst)
        rows.append(ctp.filled(
            "InvestorPositionDetail",
            InstrumentID=lot.instrument_id,
            BrokerID=account.broker_id,
            InvestorID=account.user_id,
            HedgeFlag=ctp.SPECULATION,
            Direction=ctp.BUY if lot.long else ctp.SELL,
            OpenDate=lot.open_day,
            TradeID=lot.trade_id,
            Volume=lot.volume,
            OpenPrice=lot.open_price,
            TradingDay=trading_day,
            SettlementID=1,
            TradeType="0",
            ExchangeID=inst.exchange_id,
            CloseProfitByDate=lot.close_profit_by_date,
            CloseProfitByTrade=lot.close_profit_by_trade,
            PositionProfitByDate=sign * (last - lot.basis) * lot.volume * mult,
            PositionProfitByTrade=sign * (last - lot.open_price) * lot.volume * mult,
            Margin=margin,
            ExchMargin=margin,
            MarginRateByMoney=lot.margin_ratio,
            LastSettlementPrice=pre_settle(inst),
            SettlementPrice=last,
            CloseVolume=lot.close_volume,
            CloseAmount=lot.close_amount,
            TimeFirstVolume=lot.original,
            SpecPosiType="#",
        ))
    return rows
