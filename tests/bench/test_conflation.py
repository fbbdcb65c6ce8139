"""End to end: a client that stops reading is conflated; the others get every tick."""

from __future__ import annotations

import asyncio

from wsbridge.bench import procs, ticks
from wsbridge.client import Client

from .support import bench_server, login, open_recorder, subscribe, until

TICK_RATE = 4000  # per second: well within what the reading client keeps up with


def stamp_of(msg: dict) -> str:
    return msg["DepthMarketData"][ticks.STAMP_FIELD]


async def test_stopped_reader_gets_latest_quote_per_instrument(tmp_path) -> None:
    ids = ticks.instrument_ids(5)
    with bench_server(tmp_path, "md", instruments=len(ids)) as (server, control):
        reader = await Client.connect(server.url)
        await reader.login("reader", "x")
        await reader.subscribe(ids)
        stopped = await open_recorder(server.url, [login("stopped"), subscribe(ids)],
                                      b"RspSubMarketData", rcvbuf=4096)
        stopped.transport.pause_reading()

        injected = 0
        for _ in range(40):  # until the stopped client's quotes start being conflated
            answer = await asyncio.to_thread(control, cmd="ticks", rate=TICK_RATE,
                                             seconds=0.25)
            injected += answer["injected"]
            health = await asyncio.to_thread(procs.health, server)
            if health["conflated_quotes"]:
                break
        # A few more rounds while it is behind, so each instrument is replaced many times.
        for _ in range(2):
            answer = await asyncio.to_thread(control, cmd="ticks", rate=TICK_RATE,
                                             seconds=0.25)
            injected += answer["injected"]

        # The client that reads gets every tick, in order, none conflated.
        everything = [await reader.next_push("RtnDepthMarketData") for _ in range(injected)]
        stamps = [stamp_of(m) for m in everything]
        assert stamps == sorted(stamps) and len(set(stamps)) == injected
        last = {}
        for msg in everything:
            last[msg["DepthMarketData"]["InstrumentID"]] = stamp_of(msg)
        assert set(last) == set(ids)

        conflated = (await asyncio.to_thread(procs.health, server))["conflated_quotes"]
        assert conflated > 0

        stopped.transport.resume_reading()
        got = stopped.of_type
        await until(lambda: len(got("RtnDepthMarketData")) + conflated >= injected)
        await asyncio.sleep(0.2)  # nothing more may arrive
        received = got("RtnDepthMarketData")
        assert len(received) + conflated == injected

        # What it received: the ticks sent before it fell behind (the same as everyone's),
        # then only the latest quote of each instrument.
        stamps_received = [stamp_of(m) for m in received]
        prefix = 0
        while prefix < len(received) and stamps_received[prefix] == stamps[prefix]:
            prefix += 1
        tail = received[prefix:]
        tail_ids = [m["DepthMarketData"]["InstrumentID"] for m in tail]
        assert len(tail_ids) == len(set(tail_ids)) == len(ids)
        assert {m["DepthMarketData"]["InstrumentID"]: stamp_of(m) for m in tail} == last
        assert prefix + len(tail) + conflated == injected

        stopped.close()
        await reader.close()
        await until(lambda: not stopped.open)
