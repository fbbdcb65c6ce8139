"""The :class:`Exchange` facade: sessions, order flow, matching rounds, the day roll.

Single-threaded and synchronous: callers (the sim adapter, the protocol simulators) call it
from one thread. Every public operation first brings the exchange to the clock's trading day,
then does its work, journals the changes, and only then returns the events.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from wsbridge.protocol import errors
from wsbridge.protocol.errors import CtpError
from wsbridge.simulators.exchange import accounts as acc
from wsbridge.simulators.exchange import ctp, matching, orders, reports
from wsbridge.simulators.exchange.calendar import Calendar, Day, to_ms
from wsbridge.simulators.exchange.instruments import Catalog, Instrument
from wsbridge.simulators.exchange.journal import Changes, Journal
from wsbridge.simulators.exchange.market import Market, Quote
from wsbridge.simulators.exchange.settings import SimSettings, check_settings

SYSTEM_NAME = "wsbridge-sim"


class Event(NamedTuple):
    """A push for every session of ``account``: e.g. ("9999:alice", "RtnOrder", "Order", {...})."""

    account: str
    msg_type: str
    body_key: str
    body: dict
    rsp_info: dict | None = None


def _refuse(error_id: int, detail: str) -> CtpError:
    """A CtpError whose ErrorMsg says what exactly was wrong (clients see only ErrorMsg)."""
    return CtpError(error_id, f"{errors.message(error_id)}: {detail}", detail)


class OrderRejected(CtpError):
    """An order insert or action the exchange refused.

    ``body`` is the request as the exchange read it (the InputOrder / InputOrderAction to
    answer with); ``events`` are the pushes that go with it (ErrRtnOrderInsert /
    ErrRtnOrderAction).
    """

    def __init__(self, error: CtpError, body: dict, events: list[Event]) -> None:
        super().__init__(error.error_id, error.error_msg, error.detail)
        self.body = body
        self.events = events


@dataclass(slots=True, eq=False)
class Session:
    """One login: CTP's order identity is (FrontID, SessionID, OrderRef)."""

    broker_id: str
    user_id: str
    front_id: int
    session_id: int
    trading_day: str
    login_time: str
    max_order_ref: int = 0

    @property
    def account(self) -> str:
        """The account key pushes are routed by: ``"<BrokerID>:<UserID>"``."""
        return f"{self.broker_id}:{self.user_id}"

    @property
    def investor_id(self) -> str:
        return self.user_id

    def rsp_user_login(self) -> dict:
        """The CThostFtdcRspUserLoginField answering this login."""
        return ctp.filled(
            "RspUserLogin",
            TradingDay=self.trading_day,
            LoginTime=self.login_time,
            BrokerID=self.broker_id,
            UserID=self.user_id,
            SystemName=SYSTEM_NAME,
            FrontID=self.front_id,
            SessionID=self.session_id,
            MaxOrderRef=str(self.max_order_ref),
            SHFETime=self.login_time,
            DCETime=self.login_time,
            CZCETime=self.login_time,
            FFEXTime=self.login_time,
            INETime=self.login_time,
            GFEXTime=self.login_time,
            SysVersion="wsbridge-sim 1",
        )


_COUNTERS = ("session", "order", "trade", "seq", "lot")


class Exchange:
    """A small exchange: instruments, a synthetic market, matching, accounts, a journal."""

    def __init__(
        self,
        settings: SimSettings | None = None,
        journal_path: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = check_settings(settings or SimSettings())
        self.calendar = Calendar(self.settings.utc_offset_minutes)
        self._clock = clock
        t_ms = to_ms(clock())
        today = self.calendar.day(t_ms)
        self.catalog = Catalog(self.settings, today.trading_day)
        self.instruments: dict[str, Instrument] = self.catalog.instruments
        self._unlisted: dict[str, Instrument] = {}
        self.market = Market(self.settings.seed, self.settings.tick_interval_ms, self.calendar)
        self._liquidity = matching.Liquidity()
        self._journal = Journal(journal_path)
        self._changes = Changes()
        self._pending: list[Event] = []
        self._accounts: dict[str, acc.Account] = {}
        self._orders: dict[str, orders.WorkingOrder] = {}  # today's, by OrderSysID
        self._live: dict[str, orders.WorkingOrder] = {}  # still working
        self._refs: dict[tuple[int, int, str], str] = {}
        self._trades: dict[str, list[dict]] = {}
        self._bucket = self.market.bucket(t_ms)
        self._last_bucket = self._bucket  # matching rounds done through this bucket
        self._load(today)
        self._sync(t_ms)
        self._commit()

    # -- state ----------------------------------------------------------------------

    def _load(self, today: Day) -> None:
        journal = self._journal
        meta = journal.meta()
        self._next = {name: int(meta.get(f"next_{name}", "1")) for name in _COUNTERS}
        stored = meta.get("trading_day")
        self._day = self._day_named(stored) if stored else today
        self.trading_day = self._day.trading_day
        for record in journal.accounts():
            account = acc.Account.from_record(record)
            self._accounts[account.key] = account
        for key, record in journal.lots():
            self.find(record["instrument_id"])
            self._accounts[key].lots[record["trade_id"]] = acc.Lot(**record)
        for key, row, record in journal.stats():
            iid, posi, date = row.split("|")
            self.find(iid)
            self._accounts[key].stats[(iid, posi, date)] = acc.Stats(**record)
        for record in journal.orders(self.trading_day):
            wo = orders.WorkingOrder.from_record(record)
            self.find(wo.instrument_id)
            self._orders[wo.sys_id] = wo
            o = wo.order
            self._refs[(o["FrontID"], o["SessionID"], o["OrderRef"])] = wo.sys_id
            if wo.working:
                self._live[wo.sys_id] = wo
        for key, trade in journal.trades(self.trading_day):
            self._trades.setdefault(key, []).append(trade)
        self._changes.meta["trading_day"] = self.trading_day

    def _day_named(self, trading_day: str) -> Day:
        return self.calendar.day_of(dt.datetime.strptime(trading_day, "%Y%m%d").date())

    def _counter(self, name: str) -> int:
        value = self._next[name]
        self._next[name] = value + 1
        self._changes.meta[f"next_{name}"] = str(value + 1)
        return value

    def find(self, iid: str) -> Instrument | None:
        """An instrument by id: listed, or a contract of a configured product, or None."""
        inst = self.instruments.get(iid) or self._unlisted.get(iid)
        if inst is None:
            inst = self.catalog.get(iid)
            if inst is not None:
                self._unlisted[iid] = inst
        return inst

    def lookup(self, iid: str) -> Instrument:
        """An instrument by id, listed or not (KeyError if no product makes it)."""
        inst = self.find(iid)
        if inst is None:
            raise KeyError(iid)
        return inst

    def _commit(self) -> None:
        changes, self._changes = self._changes, Changes()
        self._journal.write(changes)

    def _flush(self) -> list[Event]:
        self._commit()
        events, self._pending = self._pending, []
        return events

    def _now(self, now: float | None) -> int:
        t_ms = to_ms(self._clock() if now is None else now)
        self._bucket = self.market.bucket(t_ms)
        self._sync(t_ms)
        return t_ms

    def _save_order(self, wo: orders.WorkingOrder) -> None:
        self._changes.orders[wo.sys_id] = (self.trading_day, wo.record())

    def _save_account(self, account: acc.Account) -> None:
        self._changes.accounts[account.key] = account.record()

    def _save_lot(self, account: acc.Account, lot: acc.Lot, keep: bool = True) -> None:
        self._changes.lots[(account.key, lot.trade_id)] = acc.lot_record(lot) if keep else None

    def _save_stats(self, account: acc.Account, key: acc.RowKey) -> None:
        stats = account.stats.get(key)
        record = None if stats is None else {
            name: getattr(stats, name) for name in acc.Stats.__dataclass_fields__
        }
        self._changes.stats[(account.key, "|".join(key))] = record

    # -- market ---------------------------------------------------------------------

    def depth(self, instrument_id: str, now: float | None = None) -> dict:
        """The DepthMarketData of an instrument now; CtpError(16) if unknown."""
        inst = self.find(instrument_id)
        if inst is None:
            raise CtpError(errors.INSTRUMENT_NOT_FOUND, detail=instrument_id)
        t_ms = to_ms(self._clock() if now is None else now)
        return self.market.depth(inst, self.market.bucket(t_ms))

    def _quote(self, inst: Instrument, bucket: int | None = None) -> Quote:
        return self.market.quote(inst, self._bucket if bucket is None else bucket)

    def mark(self, inst: Instrument) -> float:
        """The last price positions are marked to, in the current bucket."""
        return inst.price(self._quote(inst).last)

    def pre_settlement(self, inst: Instrument) -> float:
        return self.market.settlement(inst, self._day)

    # -- sessions -------------------------------------------------------------------

    def login(
        self, broker_id: str, user_id: str, password: str, now: float | None = None
    ) -> Session:
        """Log in; a new UserID opens an account with that password (CtpError(3) if wrong)."""
        t_ms = self._now(now)
        broker_id = broker_id or self.settings.broker_id
        if not user_id:
            raise CtpError(errors.INVALID_LOGIN, detail="UserID is empty")
        key = f"{broker_id}:{user_id}"
        account = self._accounts.get(key)
        if account is None:
            funds = self.settings.initial_funds
            account = acc.Account(
                key=key, broker_id=broker_id, user_id=user_id, password=password,
                open_date=self.trading_day,
                pre_balance={c: funds for c in self.catalog.currencies()},
            )
            self._accounts[key] = account
            self._save_account(account)
        elif account.password != password:
            raise CtpError(errors.INVALID_LOGIN)
        missing = [c for c in self.catalog.currencies() if c not in account.pre_balance]
        if missing:  # a currency the config added since the account was opened
            for currency in missing:
                account.pre_balance[currency] = self.settings.initial_funds
            self._save_account(account)
        refs = [
            int(wo.order["OrderRef"]) for wo in self._orders.values()
            if wo.account == key and wo.order["OrderRef"].isdigit()
        ]
        session = Session(
            broker_id=broker_id, user_id=user_id, front_id=self.settings.front_id,
            session_id=self._counter("session"), trading_day=self.trading_day,
            login_time=self.calendar.clock_time(t_ms), max_order_ref=max(refs, default=0),
        )
        self._commit()
        return session

    def update_password(self, session: Session, old: str, new: str) -> None:
        """Change the session's password; CtpError(14) if ``old`` is wrong."""
        account = self._account(session)
        if account.password != old:
            raise CtpError(errors.OLD_PASSWORD_MISMATCH)
        account.password = new
        self._save_account(account)
        self._commit()

    def _account(self, session: Session) -> acc.Account:
        account = self._accounts.get(session.account)
        if account is None:
            raise CtpError(errors.NOT_LOGGED_IN)
        return account

    def money(self, account: acc.Account, currency: str) -> reports.Money:
        return reports.money(account, currency, self.lookup, self.mark, self._live.values())

    def live_orders(self, account_key: str) -> Iterator[orders.WorkingOrder]:
        return (wo for wo in self._live.values() if wo.account == account_key)

    # -- queries --------------------------------------------------------------------

    def query(self, session: Session, msg_type: str, body: dict, now: float | None = None
              ) -> list[dict]:
        """Answer a td query (ReqQry*, settlement, authenticate, logout) with its rows.

        CtpError(-404) for a msg_type the exchange does not serve.
        """
        from wsbridge.simulators.exchange import queries

        self._now(now)
        handler = queries.HANDLERS.get(msg_type)
        if handler is None:
            raise CtpError(errors.NOT_SUPPORTED, detail=msg_type)
        rows = handler(self, session, dict(body or {}))
        self._commit()
        return rows

    def orders_of(self, account_key: str) -> list[dict]:
        """Today's orders of an account (copies), oldest first."""
        return [dict(wo.order) for wo in self._orders.values() if wo.account == account_key]

    def trades_of(self, account_key: str) -> list[dict]:
        return [dict(t) for t in self._trades.get(account_key, [])]

    def account_of(self, session: Session) -> acc.Account:
        return self._account(session)

    def confirm_settlement(self, session: Session) -> dict:
        """Record the session's settlement confirmation; the SettlementInfoConfirm row."""
        account = self._account(session)
        t_ms = to_ms(self._clock())
        account.confirm_date = self.trading_day
        account.confirm_time = self.calendar.clock_time(t_ms)
        self._save_account(account)
        return ctp.filled(
            "SettlementInfoConfirm", BrokerID=account.broker_id, InvestorID=account.user_id,
            ConfirmDate=account.confirm_date, ConfirmTime=account.confirm_time,
            SettlementID=1, AccountID=account.user_id, CurrencyID="CNY",
        )

    # -- orders ---------------------------------------------------------------------

    def insert_order(
        self, session: Session, input_order: dict, now: float | None = None
    ) -> list[Event]:
        """Accept (and match) an order; raises :class:`OrderRejected` if a check fails."""
        t_ms = self._now(now)
        account = self._account(session)
        inp = orders.normalize(input_order, session.broker_id, session.user_id)
        try:
            self._check_order_ref(session, inp)
            inst = self.find(inp["InstrumentID"])
            if inst is None or inp["ExchangeID"] not in ("", inst.exchange_id):
                raise _refuse(errors.INSTRUMENT_NOT_FOUND,
                              f"{inp['InstrumentID']!r} on {inp['ExchangeID'] or 'any exchange'}")
            inp["ExchangeID"] = inst.exchange_id
            intent = orders.parse(inp, inst, self._quote(inst))
            wo = self._freeze(account, inst, intent)
            if self.settings.require_settlement_confirm and (
                account.confirm_date != self.trading_day
            ):
                raise _refuse(errors.SETTLEMENT_NOT_CONFIRMED,
                              "send ReqSettlementInfoConfirm first")
        except CtpError as exc:
            self._commit()
            raise OrderRejected(exc, inp, [
                Event(account.key, "ErrRtnOrderInsert", "InputOrder", dict(inp), exc.rsp_info())
            ]) from None
        self._accept(session, account, inst, intent, inp, wo, t_ms)
        return self._flush()

    def _check_order_ref(self, session: Session, inp: dict) -> None:
        ref = inp["OrderRef"]
        if not ref:
            ref = inp["OrderRef"] = str(session.max_order_ref + 1)
        if (session.front_id, session.session_id, ref) in self._refs:
            raise _refuse(errors.DUPLICATE_ORDER_REF, f"OrderRef {ref} used in this session")

    def _freeze(
        self, account: acc.Account, inst: Instrument, intent: orders.Intent
    ) -> orders.WorkingOrder:
        """Check position and money for ``intent``; the frozen part of a new order."""
        price = intent.freeze_price
        wo = orders.WorkingOrder(
            sys_id="", account=account.key, instrument_id=inst.id, order={}, buy=intent.buy,
            offset=intent.offset, limit=intent.limit, seq=0,
        )
        if intent.offset == ctp.OPEN:
            wo.margin_unit = acc.margin_of(inst, price, 1)
            wo.fee_unit = acc.commission_of(inst, "open", price, 1)
            need = intent.volume * (wo.margin_unit + wo.fee_unit)
        else:
            wo.close_yd, wo.close_today = self._close_plan(account, inst, intent)
            wo.fee_unit_yd = acc.commission_of(inst, "close", price, 1)
            wo.fee_unit_today = acc.commission_of(inst, "close_today", price, 1)
            need = wo.close_yd * wo.fee_unit_yd + wo.close_today * wo.fee_unit_today
        available = self.money(account, inst.spec.currency).available
        if need > available + 1e-6:
            raise _refuse(
                errors.INSUFFICIENT_MONEY,
                f"needs {need:.2f} {inst.spec.currency}, available {available:.2f}",
            )
        return wo

    def closeable(self, account: acc.Account, inst: Instrument, buy: bool) -> tuple[int, int]:
        """Volume a buy (sell) order may still close: (earlier lots, today's lots)."""
        long = not buy  # a sell closes longs
        day = self.trading_day
        frozen_yd = frozen_today = 0
        for wo in self.live_orders(account.key):
            if wo.instrument_id == inst.id and not wo.is_open and wo.buy == buy:
                frozen_yd += wo.close_yd
                frozen_today += wo.close_today
        return (
            acc.held(account, inst.id, long, False, day) - frozen_yd,
            acc.held(account, inst.id, long, True, day) - frozen_today,
        )

    def _close_plan(
        self, account: acc.Account, inst: Instrument, intent: orders.Intent
    ) -> tuple[int, int]:
        """How much of a close comes from earlier lots and from today's: (yd, today)."""
        yd, today = self.closeable(account, inst, intent.buy)
        v, total = intent.volume, yd + today
        offset = intent.offset
        if v > total:
            raise _refuse(errors.CLOSE_EXCEEDS_POSITION, f"closeable {total}, asked {v}")
        if offset == ctp.CLOSE_TODAY:
            if v > today:
                raise _refuse(errors.CLOSE_TODAY_EXCEEDS, f"today's closeable {today}, asked {v}")
            return 0, v
        if offset == ctp.CLOSE_YESTERDAY or inst.split_today:
            if v > yd:
                raise _refuse(errors.CLOSE_YESTERDAY_EXCEEDS,
                              f"yesterday's closeable {yd}, asked {v}")
            return v, 0
        first = min(v, yd)
        return first, v - first

    def _accept(
        self, session: Session, account: acc.Account, inst: Instrument, intent: orders.Intent,
        inp: dict, wo: orders.WorkingOrder, t_ms: int,
    ) -> None:
        number = self._counter("order")
        sys_id = str(number)
        wo.sys_id, wo.seq = sys_id, number
        o = ctp.blank("Order")
        for key, value in inp.items():
            if key in o and not key.startswith("reserve"):
                o[key] = value
        clock = self.calendar.clock_time(t_ms)
        o.update(
            LimitPrice=0.0 if intent.limit is None else inst.price(intent.limit),
            VolumeTotalOriginal=intent.volume, ExchangeInstID=inst.id,
            ParticipantID=account.broker_id, ClientID=account.user_id,
            TraderID=f"{account.broker_id}sim", InstallID=1, OrderLocalID=sys_id,
            TradingDay=self.trading_day, SettlementID=1, OrderSource="0", OrderType="0",
            VolumeTraded=0, VolumeTotal=intent.volume, InsertDate=self.calendar.date(t_ms),
            InsertTime=clock, UpdateTime=clock, FrontID=session.front_id,
            SessionID=session.session_id, BrokerOrderSeq=number, AccountID=account.user_id,
            CurrencyID=inst.spec.currency, ClearingPartID=account.broker_id,
            OrderStatus=ctp.UNKNOWN, OrderSubmitStatus=ctp.INSERT_SUBMITTED,
            StatusMsg="order submitted", NotifySequence=1,
        )
        wo.order = o
        ref = o["OrderRef"]
        self._refs[(session.front_id, session.session_id, ref)] = sys_id
        if ref.isdigit():
            session.max_order_ref = max(session.max_order_ref, int(ref))
        self._orders[sys_id] = wo
        self._live[sys_id] = wo
        self._push_order(wo)  # CTP front: submitted, no OrderSysID yet
        o.update(
            OrderSysID=sys_id, OrderSubmitStatus=ctp.ACCEPTED, OrderStatus=ctp.NO_TRADE,
            StatusMsg="not traded", NotifySequence=2,
        )
        self._push_order(wo)
        self._take(wo, inst, intent, t_ms)
        if wo.working and intent.immediate:
            reason = "market order remainder canceled" if intent.limit is None else (
                "IOC remainder canceled"
            )
            self._cancel(wo, t_ms, reason)
        self._save_order(wo)

    def _push_order(self, wo: orders.WorkingOrder) -> None:
        o = wo.order
        o["SequenceNo"] = self._counter("seq")
        self._pending.append(Event(wo.account, "RtnOrder", "Order", dict(o)))

    def _take(
        self, wo: orders.WorkingOrder, inst: Instrument, intent: orders.Intent, t_ms: int
    ) -> None:
        """Match an incoming order against this bucket's and the previous bucket's book."""
        quotes = [self._quote(inst)]
        prev = self._bucket - 1
        if prev * self.settings.tick_interval_ms >= self._day.start_ms:
            quotes.append(self._quote(inst, prev))
        levels = matching.crossing(quotes, wo.buy, intent.limit, self._liquidity)
        if matching.available(levels) < intent.min_fill:
            return
        source = ctp.PRICE_FROM_SELL if wo.buy else ctp.PRICE_FROM_BUY
        for level, volume in matching.allocate(levels, intent.volume):
            self._liquidity.take(inst.id, wo.buy, level, volume)
            self._fill(wo, inst, level.price, volume, t_ms, source)

    def _fill(
        self, wo: orders.WorkingOrder, inst: Instrument, ticks: int, volume: int, t_ms: int,
        source: str,
    ) -> None:
        account = self._accounts[wo.account]
        price = inst.price(ticks)
        day = self.trading_day
        o = wo.order
        o["VolumeTraded"] += volume
        o["VolumeTotal"] -= volume
        done = o["VolumeTotal"] == 0
        o["OrderStatus"] = ctp.ALL_TRADED if done else ctp.PART_TRADED
        o["StatusMsg"] = "all traded" if done else "part traded"
        o["UpdateTime"] = self.calendar.clock_time(t_ms)
        trade_id = str(self._counter("trade"))
        if wo.is_open:
            lot, key = acc.open_lot(
                account, inst, trade_id, wo.buy, price, volume, day, self._counter("lot")
            )
            acc.stats_for(account, key).commission += acc.commission_of(
                inst, "open", price, volume
            )
            self._save_lot(account, lot)
            self._save_stats(account, key)
        else:
            from_yd = min(volume, wo.close_yd)
            wo.close_yd -= from_yd
            wo.close_today -= volume - from_yd
            for today, part in ((False, from_yd), (True, volume - from_yd)):
                if not part:
                    continue
                touched, key = acc.close_lots(account, inst, not wo.buy, today, part, price, day)
                kind = "close_today" if today else "close"
                acc.stats_for(account, key).commission += acc.commission_of(
                    inst, kind, price, part
                )
                for lot in touched:
                    self._save_lot(account, lot)
                self._save_stats(account, key)
        if done:
            self._live.pop(wo.sys_id, None)
        self._push_order(wo)
        trade = ctp.filled(
            "Trade",
            BrokerID=account.broker_id, InvestorID=account.user_id, InstrumentID=inst.id,
            OrderRef=o["OrderRef"], UserID=o["UserID"], ExchangeID=inst.exchange_id,
            TradeID=trade_id, Direction=o["Direction"], OrderSysID=wo.sys_id,
            ParticipantID=account.broker_id, ClientID=account.user_id, TradingRole="1",
            ExchangeInstID=inst.id, OffsetFlag=wo.offset, HedgeFlag=ctp.SPECULATION,
            Price=price, Volume=volume, TradeDate=self.calendar.date(t_ms),
            TradeTime=self.calendar.clock_time(t_ms), TradeType="0", PriceSource=source,
            TraderID=o["TraderID"], OrderLocalID=o["OrderLocalID"],
            ClearingPartID=account.broker_id, BusinessUnit=o["BusinessUnit"],
            SequenceNo=o["SequenceNo"], TradingDay=day, SettlementID=1,
            BrokerOrderSeq=o["BrokerOrderSeq"], TradeSource="0",
            InvestUnitID=o["InvestUnitID"],
        )
        self._trades.setdefault(account.key, []).append(trade)
        self._changes.trades[trade_id] = (day, account.key, trade)
        self._save_order(wo)
        self._pending.append(Event(account.key, "RtnTrade", "Trade", dict(trade)))

    def _cancel(self, wo: orders.WorkingOrder, t_ms: int, reason: str) -> None:
        o = wo.order
        clock = self.calendar.clock_time(t_ms)
        o.update(
            OrderStatus=ctp.CANCELED, OrderSubmitStatus=ctp.ACCEPTED, CancelTime=clock,
            UpdateTime=clock, StatusMsg=reason,
        )
        wo.close_yd = wo.close_today = 0
        self._live.pop(wo.sys_id, None)
        self._save_order(wo)
        self._push_order(wo)

    def cancel_order(
        self, session: Session, input_action: dict, now: float | None = None
    ) -> list[Event]:
        """Cancel a working order; raises :class:`OrderRejected` (25 / 26 / 23) otherwise."""
        t_ms = self._now(now)
        account = self._account(session)
        inp = ctp.read("InputOrderAction", input_action)
        inp["BrokerID"] = inp["BrokerID"] or session.broker_id
        inp["InvestorID"] = inp["InvestorID"] or session.user_id
        inp["UserID"] = inp["UserID"] or session.user_id
        inp["ActionFlag"] = inp["ActionFlag"] or ctp.ACTION_DELETE
        wo = None
        try:
            wo = self._find_order(session, account, inp)
            if inp["ActionFlag"] != ctp.ACTION_DELETE:
                raise _refuse(errors.BAD_ORDER_ACTION_FIELD,
                              "ActionFlag: only '0' (delete) is supported")
            if not wo.working:
                raise _refuse(errors.ORDER_NOT_CANCELABLE,
                              f"order {wo.sys_id} has OrderStatus {wo.order['OrderStatus']!r}")
        except CtpError as exc:
            raise OrderRejected(exc, inp, [
                Event(account.key, "ErrRtnOrderAction", "OrderAction",
                      self._order_action(inp, wo, t_ms, exc), exc.rsp_info())
            ]) from None
        self._cancel(wo, t_ms, "canceled")
        return self._flush()

    def _find_order(
        self, session: Session, account: acc.Account, inp: dict
    ) -> orders.WorkingOrder:
        sys_id = str(inp["OrderSysID"]).strip()
        if sys_id:
            wo = self._orders.get(sys_id)
            if wo is not None and inp["ExchangeID"] not in ("", self.lookup(
                    wo.instrument_id).exchange_id):
                wo = None
        else:
            front = inp["FrontID"] or session.front_id
            sid = inp["SessionID"] or session.session_id
            found = self._refs.get((front, sid, str(inp["OrderRef"]).strip()))
            wo = self._orders.get(found) if found else None
        if wo is None or wo.account != account.key:
            which = f"OrderSysID {sys_id}" if sys_id else f"OrderRef {inp['OrderRef']}"
            raise _refuse(errors.ORDER_NOT_FOUND, f"no order of yours with {which} today")
        return wo

    def _order_action(
        self, inp: dict, wo: orders.WorkingOrder | None, t_ms: int, exc: CtpError
    ) -> dict:
        body = ctp.blank("OrderAction")
        for key, value in inp.items():
            if key in body and not key.startswith("reserve"):
                body[key] = value
        if wo is not None:
            o = wo.order
            for key in ("OrderSysID", "ExchangeID", "InstrumentID", "OrderRef", "FrontID",
                        "SessionID", "OrderLocalID", "ClientID", "ParticipantID", "TraderID"):
                body[key] = o[key]
        body.update(
            ActionDate=self.calendar.date(t_ms), ActionTime=self.calendar.clock_time(t_ms),
            OrderActionStatus=ctp.ACTION_REJECTED, StatusMsg=exc.error_msg, InstallID=1,
        )
        return body

    # -- time -----------------------------------------------------------------------

    def advance(self, now: float | None = None) -> list[Event]:
        """Run the market forward to ``now``: resting orders fill; the day rolls if due."""
        t_ms = self._now(now)
        bucket = self._bucket
        tick_ms = self.settings.tick_interval_ms
        start = max(
            self._last_bucket + 1,
            bucket - self.settings.max_catchup_buckets + 1,
            -(-self._day.start_ms // tick_ms),  # never a bucket of an earlier day
        )
        for b in range(start, bucket + 1):
            self._match_resting(b, t_ms if b == bucket else b * tick_ms)
        self._last_bucket = max(bucket, self._last_bucket)
        self._liquidity.forget_before(bucket - 1)
        return self._flush()

    def _match_resting(self, bucket: int, t_ms: int) -> None:
        by_inst: dict[str, list[orders.WorkingOrder]] = {}
        for wo in self._live.values():
            by_inst.setdefault(wo.instrument_id, []).append(wo)
        for iid, resting in by_inst.items():
            inst = self.lookup(iid)
            quote = self._quote(inst, bucket)
            for wo in sorted(resting, key=orders.priority):
                levels = matching.crossing([quote], wo.buy, wo.limit, self._liquidity)
                volume = min(wo.remaining, matching.available(levels))
                if volume <= 0:
                    continue
                for level, part in matching.allocate(levels, volume):
                    self._liquidity.take(iid, wo.buy, level, part)
                assert wo.limit is not None
                source = ctp.PRICE_FROM_BUY if wo.buy else ctp.PRICE_FROM_SELL
                self._fill(wo, inst, wo.limit, volume, t_ms, source)

    def _sync(self, t_ms: int) -> None:
        day = self.calendar.day(t_ms)
        if day.ordinal > self._day.ordinal:
            self._roll(day, t_ms)

    def _roll(self, day: Day, t_ms: int) -> None:
        """Close the trading day: cancel GFD orders, settle, make today's lots yesterday's."""
        for wo in list(self._live.values()):
            self._cancel(wo, t_ms, "canceled at the end of the trading day")
        self._day = day
        settle: dict[str, float] = {}

        def settlement(inst: Instrument) -> float:
            if inst.id not in settle:
                settle[inst.id] = self.market.settlement(inst, day)
            return settle[inst.id]

        for account in self._accounts.values():
            currencies = set(account.pre_balance)
            currencies.update(self.lookup(lot.instrument_id).spec.currency
                              for lot in account.lots.values())
            for currency in currencies:
                m = reports.money(account, currency, self.lookup, settlement, ())
                account.pre_balance[currency] = m.balance
            account.deposit.clear()
            account.withdraw.clear()
            for key in list(account.stats):
                del account.stats[key]
                self._save_stats(account, key)
            for lot in list(account.lots.values()):
                if lot.volume <= 0:
                    del account.lots[lot.trade_id]
                    self._save_lot(account, lot, keep=False)
                    continue
                inst = self.lookup(lot.instrument_id)
                lot.basis = settlement(inst)
                key = acc.row_key(inst, lot.long, today=False)
                acc.stats_for(account, key).yd_position += lot.volume
                self._save_lot(account, lot)
                self._save_stats(account, key)
            self._save_account(account)
        self.trading_day = day.trading_day
        self._changes.meta["trading_day"] = day.trading_day
        self._orders.clear()
        self._live.clear()
        self._trades.clear()

    def close(self) -> None:
        """Write anything pending and close the journal."""
        self._commit()
        self._journal.close()
