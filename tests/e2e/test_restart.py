"""The sim journals to SQLite: kill -9 the td server, start it again, nothing is lost."""

from __future__ import annotations

from tests.e2e.conftest import sim_config
from tests.e2e.trading import Trader
from tests.support import ServerProcess

BUY, OPEN = "0", "0"


def key(rows: list[dict], *fields: str) -> list[tuple]:
    return sorted(tuple(r[f] for f in fields) for r in rows)


async def test_kill_9_then_restart_keeps_orders_trades_positions(tmp_path) -> None:
    config = sim_config(tmp_path)
    server = ServerProcess("td", config, tmp_path).start()
    try:
        trader = await Trader.connect(server.url, "survivor", "pw")
        rb = await trader.instrument("rb")
        depth = await trader.depth(rb)
        filled = await trader.place(rb, BUY, OPEN, depth["UpperLimitPrice"], 2)
        assert filled["orders"][-1]["OrderStatus"] == "0"
        resting = await trader.place(rb, BUY, OPEN, depth["LowerLimitPrice"], 1)
        assert resting["orders"][-1]["OrderStatus"] == "3"
        orders = await trader.client.query("ReqQryOrder", {})
        trades = await trader.client.query("ReqQryTrade", {})
        positions = await trader.positions()
        account = await trader.account()
        await trader.close()
        server.kill()  # SIGKILL: no shutdown code runs

        server.start()
        again = await Trader.connect(server.url, "survivor", "pw")
        assert key(await again.client.query("ReqQryOrder", {}), "OrderSysID", "OrderStatus",
                   "VolumeTraded") == key(orders, "OrderSysID", "OrderStatus", "VolumeTraded")
        assert key(await again.client.query("ReqQryTrade", {}), "TradeID", "Price",
                   "Volume") == key(trades, "TradeID", "Price", "Volume")
        assert key(await again.positions(), "InstrumentID", "PosiDirection", "Position") == \
            key(positions, "InstrumentID", "PosiDirection", "Position")
        restored = await again.account()
        for field in ("PreBalance", "CurrMargin", "FrozenMargin", "Commission"):
            assert abs(restored[field] - account[field]) < 1e-6, field
        # The resting order is still live after the restart: it can be canceled.
        (answer,) = await again.cancel(resting["orders"][-1])
        assert answer["Order"]["OrderStatus"] == "5"
        # And the password is still the one set before the crash.
        await again.close()
    finally:
        server.kill()
