"""SIGTERM: stop accepting, answer what is in flight, close with 1001, exit 0."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.trading import Trader
from tests.support import ServerProcess


async def test_sigterm_is_a_clean_stop(tmp_path: Path) -> None:
    config = {"backend": "sim", "sim": {"seed": 1, "journal": str(tmp_path / "j.sqlite")}}
    server = ServerProcess("td", config, tmp_path).start()
    try:
        trader = await Trader.connect(server.url, "leaver", "pw")
        rb = await trader.instrument("rb")
        depth = await trader.depth(rb)
        placed = await trader.place(rb, "0", "0", depth["LowerLimitPrice"], 1)
        ids = [await trader.client.send("ReqQryInvestor", {}) for _ in range(20)]
        answered = set()
        while len(answered) < 5:  # the server is working through them
            answered.add((await trader.client.next_push("RspQryInvestor"))["RequestID"])
        # In a thread: this event loop must stay free to answer the close handshake.
        assert await asyncio.to_thread(server.terminate) == 0
        await asyncio.wait_for(trader.client.closed.wait(), 30)
        assert trader.client.ws.close_code == 1001
        assert trader.client.ws.close_reason == "server shutting down"
        # Whatever was answered before the close was answered in full, never cut short.
        rest = [m async for m in trader.client.pushes() if m["MsgType"] == "RspQryInvestor"]
        assert all(m["RspInfo"]["ErrorID"] == 0 and m["IsLast"] for m in rest)
        assert answered | {m["RequestID"] for m in rest} <= set(ids)
        assert "stopped" in server.log()

        server.start()  # the journal was flushed: the resting order is there
        again = await Trader.connect(server.url, "leaver", "pw")
        orders = await again.client.query("ReqQryOrder", {})
        assert [o["OrderRef"] for o in orders] == [placed["ref"]]
        await again.close()
    finally:
        server.kill()
