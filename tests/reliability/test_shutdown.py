"""SIGTERM: stop accepting, answer what is in flight, close with 1001, exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

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
        assert server.terminate() == 0
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await trader.client.ws.recv()
        assert info.value.rcvd.code == 1001
        assert info.value.rcvd.reason == "server shutting down"
        assert set(ids) >= answered
        assert "stopped" in server.log()

        server.start()  # the journal was flushed: the resting order is there
        again = await Trader.connect(server.url, "leaver", "pw")
        orders = await again.client.query("ReqQryOrder", {})
        assert [o["OrderRef"] for o in orders] == [placed["ref"]]
        await again.close()
    finally:
        server.kill()
