"""Several investors on one td server: each sees only its own orders, trades and money."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.trading import Trader
from tests.support import ServerProcess


async def test_investors_do_not_see_each_other(tmp_path: Path) -> None:
    with ServerProcess("td", {"backend": "sim", "sim": {"seed": 3}}, tmp_path) as td:
        alice = await Trader.connect(td.url, "alice", "a-pw")
        alice_too = await Trader.connect(td.url, "alice", "a-pw")  # a second screen
        bob = await Trader.connect(td.url, "bob", "b-pw")
        try:
            rb = await alice.instrument("rb")
            depth = await alice.depth(rb)
            placed = await alice.place(rb, "0", "0", depth["UpperLimitPrice"], 1)
            assert placed["orders"][-1]["OrderStatus"] == "0"
            # Alice's other session got the same pushes; Bob got none of them.
            seen = await alice_too.collect(placed["ref"], until_final=True)
            assert seen["trades"] and seen["orders"][-1]["OrderStatus"] == "0"
            await bob.client.call("ReqQryInvestor", {})  # everything sent to Bob has arrived
            leaked = [m for m in list(bob.client._pushes._queue)
                      if m and m["MsgType"] in ("RtnOrder", "RtnTrade")]
            assert leaked == []
            assert await bob.client.query("ReqQryOrder", {}) == []
            assert await bob.client.query("ReqQryTrade", {}) == []
            assert [p for p in await bob.positions() if p["Position"]] == []
            assert (await bob.account())["CurrMargin"] == 0
            assert (await alice.account())["CurrMargin"] > 0
            # Bob cannot cancel or even find Alice's orders.
            resting = await alice.place(rb, "0", "0", depth["LowerLimitPrice"], 1)
            answer, _ = await bob.cancel(resting["orders"][-1])
            assert answer["RspInfo"]["ErrorID"] == 25
            (canceled,) = await alice.cancel(resting["orders"][-1])
            assert canceled["Order"]["OrderStatus"] == "5"
        finally:
            for t in (alice, alice_too, bob):
                await t.close()
