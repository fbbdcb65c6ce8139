"""The td queries that are not about orders: positions, funds, instruments, accounts.

Each answers a CTP query with rows translated by :mod:`wsbridge.adapters.futu.parsing`;
the order and trade queries live with the order flow in :mod:`.execution`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from wsbridge.adapters.base import Reply
from wsbridge.adapters.futu.parsing.account import (
    futu_currency,
    investor_position,
    trading_account,
)
from wsbridge.adapters.futu.parsing.quotes import depth_from_snapshot
from wsbridge.adapters.futu.providers import InstrumentProvider, frame_rows
from wsbridge.protocol import catalog, errors
from wsbridge.protocol.errors import CtpError

if TYPE_CHECKING:
    from wsbridge.adapters.futu.execution import ClientSession, FutuExecution


class AccountQueries:
    """Positions, funds, instruments, exchanges, depth, investor and settlement queries."""

    def __init__(self, execution: FutuExecution, provider: InstrumentProvider) -> None:
        self.execution = execution
        self.settings = execution.settings
        self.provider = provider

    def handlers(self) -> dict:
        return {
            "ReqQryInvestorPosition": self.query_positions,
            "ReqQryTradingAccount": self.query_account,
            "ReqQryInstrument": self.query_instruments,
            "ReqQryExchange": self.query_exchanges,
            "ReqQryDepthMarketData": self.query_depth,
            "ReqQryInvestor": self.query_investor,
            "ReqQryTradingCode": self.query_trading_codes,
            "ReqSettlementInfoConfirm": self.confirm_settlement,
            "ReqQrySettlementInfoConfirm": self.confirm_settlement,
            "ReqUserLogout": self.logout,
        }

    async def query_positions(self, session: ClientSession, body: dict) -> Reply:
        ex = self.execution
        frame = await ex.trade.call("position_list_query", code=ex.code_filter(body),
                                    **ex.env())
        positions = [p for p in frame_rows(frame) if abs(float(p.get("qty") or 0)) > 0]
        await self.provider.resolve([str(p.get("code")) for p in positions])
        rows = []
        for p in positions:
            iid, exchange = self.provider.ctp_id(str(p["code"]))
            rows.append(investor_position(p, iid, exchange, self.execution.investor_id,
                                          _today(), self.settings.broker_id))
        return Reply(rows=rows)

    async def query_account(self, session: ClientSession, body: dict) -> Reply:
        currency = futu_currency(body.get("CurrencyID") or "") or self.settings.currency
        frame = await self.execution.trade.call("accinfo_query", currency=currency,
                                                **self.execution.env())
        return Reply(rows=[trading_account(f, self.execution.investor_id, currency, _today(),
                                           self.settings.broker_id)
                           for f in frame_rows(frame)])

    async def query_instruments(self, session: ClientSession, body: dict) -> Reply:
        return Reply(rows=await self.provider.instruments(body))

    async def query_exchanges(self, session: ClientSession, body: dict) -> Reply:
        return Reply(rows=self.provider.exchanges(body))

    async def query_depth(self, session: ClientSession, body: dict) -> Reply:
        instrument_id = (body.get("InstrumentID") or "").strip()
        if not instrument_id:
            raise CtpError(errors.BAD_PARAMETER, detail="InstrumentID: required")
        code = self.provider.code(instrument_id, body.get("ExchangeID") or "")
        snapshots = await self.provider.snapshots([code])
        _, exchange = self.provider.ctp_id(code)
        return Reply(rows=[depth_from_snapshot(instrument_id, exchange, s)
                           for s in snapshots.values()])

    async def query_investor(self, session: ClientSession, body: dict) -> Reply:
        return Reply(rows=[catalog.filled("Investor", {
            "InvestorID": self.execution.investor_id, "BrokerID": self.settings.broker_id,
            "InvestorName": f"Futu {self.settings.trd_env} {self.execution.acc_id}", "IsActive": 1,
        })])

    async def query_trading_codes(self, session: ClientSession, body: dict) -> Reply:
        return Reply(rows=[catalog.filled("TradingCode", {
            "InvestorID": self.execution.investor_id, "BrokerID": self.settings.broker_id,
            "ExchangeID": x["ExchangeID"], "ClientID": self.execution.investor_id, "IsActive": 1,
            "ClientIDType": "1",
        }) for x in self.provider.exchanges({})])

    async def confirm_settlement(self, session: ClientSession, body: dict) -> Reply:
        now = dt.datetime.now()  # Futu has no settlement confirmation: acknowledge it
        return Reply(rows=[catalog.filled("SettlementInfoConfirm", {
            "BrokerID": self.settings.broker_id, "InvestorID": self.execution.investor_id,
            "ConfirmDate": now.strftime("%Y%m%d"), "ConfirmTime": now.strftime("%H:%M:%S"),
        })])

    async def logout(self, session: ClientSession, body: dict) -> Reply:
        return Reply(rows=[catalog.filled("UserLogout", {"BrokerID": self.settings.broker_id,
                                                         "UserID": session.user_id})])


def _today() -> str:
    return dt.date.today().strftime("%Y%m%d")
