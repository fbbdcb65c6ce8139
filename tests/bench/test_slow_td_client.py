"""td: order events are never dropped for a connected client; one that stops reading
while they pile up past ``limits.outbox_bytes`` is closed with 1008 and the reason."""

from __future__ import annotations

import asyncio

from wsbridge.client import Client

from .support import bench_server, login, open_recorder, until

BATCH = 2000  # RtnOrder events per command, about 3 MB: more than the socket buffers hold


async def test_client_that_stops_reading_is_closed_with_1008(tmp_path) -> None:
    with bench_server(tmp_path, "td", outbox_bytes=64 * 1024) as (server, control):
        reader = await Client.connect(server.url)
        await reader.login("acct", "x")
        stopped = await open_recorder(server.url, [login("acct")], b"RspUserLogin",
                                      rcvbuf=4096)
        stopped.transport.pause_reading()

        # Batches of events until the stopped client's share no longer fits: the socket
        # buffers fill, its transport pauses, and events queue against its limit. The
        # reader gets every one of them.
        sent = 0
        for _ in range(10):
            await asyncio.to_thread(control, cmd="orders", account="acct", count=BATCH)
            got = [await reader.next_push("RtnOrder") for _ in range(BATCH)]
            assert [o["Order"]["OrderRef"] for o in got] == [str(i + 1) for i in range(BATCH)]
            sent += BATCH
            if "client too slow" in server.log():
                break
        assert "client too slow" in server.log()

        stopped.transport.resume_reading()
        await until(lambda: stopped.close_code is not None)
        assert stopped.close_code == 1008
        assert "client too slow" in stopped.close_reason
        # Everything before the close arrived whole and in order.
        refs = [o["Order"]["OrderRef"] for o in stopped.of_type("RtnOrder")]
        assert refs == [str(i % BATCH + 1) for i in range(len(refs))]
        assert BATCH <= len(refs) < sent

        # The reader is still connected and served.
        await until(lambda: not stopped.open)
        await asyncio.to_thread(control, cmd="orders", account="acct", count=1)
        assert (await reader.next_push("RtnOrder"))["Order"]["OrderRef"] == "1"
        await reader.close()
