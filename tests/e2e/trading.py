"""Test helpers that speak to a td server the way a trading client would."""

from __future__ import annotations

import itertools
from typing import Any

from wsbridge.client import Client, body_of

FINAL = {"0", "5"}  # all traded, canceled
_users = itertools.count(1)


def new_user(prefix: str = "u") -> str:
    import os

    return f"{prefix}{os.getpid() % 10000}{next(_users)}"


def order_fields(instrument: dict, direction: str, offset: str, price: float, volume: int,
                 ref: str, price_type: str = "2", time_cond: str = "3",
                 volume_cond: str = "1") -> dict:
    return {
        "InstrumentID": instrument["InstrumentID"], "ExchangeID": instrument["ExchangeID"],
        "OrderRef": ref, "Direction": direction, "CombOffsetFlag": offset,
        "CombHedgeFlag": "1", "OrderPriceType": price_type, "LimitPrice": price,
        "VolumeTotalOriginal": volume, "TimeCondition": time_cond,
        "VolumeCondition": volume_cond, "MinVolume": 1, "ContingentCondition": "1",
        "ForceCloseReason": "0",
    }


class Trader:
    """A logged-in td client with order helpers."""

    def __init__(self, client: Client, login: dict) -> None:
        self.client = client
        self.login = login
        self._refs = itertools.count(1)

    @classmethod
    async def connect(cls, url: str, user: str | None = None, password: str = "pw") -> Trader:
        client = await Client.connect(url)
        login = await client.login(user or new_user(), password)
        return cls(client, login)

    async def close(self) -> None:
        await self.client.close()

    def next_ref(self) -> str:
        return str(next(self._refs))

    async def instrument(self, product: str) -> dict:
        rows = await self.client.query("ReqQryInstrument", {})
        matches = [r for r in rows if r["ProductID"] == product]
        assert matches, f"no {product} instrument in {[r['InstrumentID'] for r in rows]}"
        return sorted(matches, key=lambda r: r["InstrumentID"])[0]

    async def depth(self, instrument: dict) -> dict:
        (row,) = await self.client.query("ReqQryDepthMarketData",
                                         {"InstrumentID": instrument["InstrumentID"]})
        return row

    async def account(self) -> dict:
        (row,) = await self.client.query("ReqQryTradingAccount", {})
        return row

    async def positions(self, instrument: dict | None = None) -> list[dict]:
        body = {"InstrumentID": instrument["InstrumentID"]} if instrument else {}
        return await self.client.query("ReqQryInvestorPosition", body)

    async def place(self, instrument: dict, direction: str, offset: str, price: float,
                    volume: int, **kwargs: Any) -> dict:
        """Insert an order; returns what came back until it is final, resting or rejected.

        {"ref", "orders": [Order...], "trades": [Trade...], "error": msg or None}
        """
        ref = self.next_ref()
        fields = order_fields(instrument, direction, offset, price, volume, ref, **kwargs)
        await self.client.send("ReqOrderInsert", fields)
        return await self.collect(ref)

    async def collect(self, ref: str, until_final: bool = False) -> dict:
        """RtnOrder/RtnTrade for one OrderRef until final (or resting, unless until_final)."""
        result: dict[str, Any] = {"ref": ref, "orders": [], "trades": [], "error": None,
                                  "err_rtn": None}
        mine = ("RtnOrder", "RtnTrade", "RspOrderInsert", "ErrRtnOrderInsert")
        while True:
            msg = await self.client.next_push(mine, where=lambda m: _ref_of(m) == ref)
            kind = msg["MsgType"]
            if kind == "ErrRtnOrderInsert":
                result["err_rtn"] = msg
                if result["error"]:
                    return result
                continue
            if kind == "RspOrderInsert":
                result["error"] = msg
                if result["err_rtn"] or not until_final:
                    return result
                continue
            body = body_of(msg)
            if kind == "RtnTrade":
                result["trades"].append(body)
                if result["orders"] and result["orders"][-1]["OrderStatus"] in FINAL \
                        and _traded(result) >= result["orders"][-1]["VolumeTraded"]:
                    return result
                continue
            result["orders"].append(body)
            status = body["OrderStatus"]
            if status in FINAL and _traded(result) >= body["VolumeTraded"]:
                return result
            if status == "3" and not until_final and body["OrderSubmitStatus"] == "3":
                # Accepted: fills the market gives at once are already on their way. A
                # round trip behind them tells a resting order from a filling one.
                await self.client.call("ReqQryInvestor", {})
                if not self._more_for(ref):
                    return result

    def _more_for(self, ref: str) -> bool:
        return any(_ref_of(m) == ref for m in list(self.client._pushes._queue)
                   if m is not None)

    async def cancel(self, order: dict) -> list[dict]:
        """ReqOrderAction by exchange order id.

        Returns [RtnOrder canceled] on success, [RspOrderAction, ErrRtnOrderAction] on failure.
        """
        fields = {"ActionFlag": "0", "ExchangeID": order["ExchangeID"],
                  "OrderSysID": order["OrderSysID"], "InstrumentID": order["InstrumentID"]}
        await self.client.send("ReqOrderAction", fields)
        kinds = ("RtnOrder", "RspOrderAction", "ErrRtnOrderAction")

        def answer(m: dict) -> bool:
            if m["MsgType"] == "RtnOrder":
                return (m["Order"]["OrderSysID"] == order["OrderSysID"]
                        and m["Order"]["OrderStatus"] == "5")
            return True

        first = await self.client.next_push(kinds, where=answer)
        if first["MsgType"] == "RtnOrder":
            return [first]
        other = "ErrRtnOrderAction" if first["MsgType"] == "RspOrderAction" else "RspOrderAction"
        second = await self.client.next_push(other)
        return sorted([first, second], key=lambda m: m["MsgType"] != "RspOrderAction")


def _ref_of(msg: dict) -> str | None:
    body = body_of(msg)
    return body.get("OrderRef") if isinstance(body, dict) else None


def _traded(result: dict) -> int:
    return sum(t["Volume"] for t in result["trades"])
