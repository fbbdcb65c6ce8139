"""Bad input gets the bridge's ErrorID with a Detail; the connection stays usable."""

from __future__ import annotations

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.trading import Trader

CASES = [
    ("not json at all", "RspError", -400, "invalid JSON"),
    ("[1, 2, 3]", "RspError", -400, "expected a JSON object"),
    ('{"RequestID": 5}', "RspError", -400, "MsgType: required"),
    ('{"MsgType": "ReqTeleport", "RequestID": 6}', "RspError", -404, "ReqTeleport"),
    ('{"MsgType": "ReqQryInstrument", "QryInstrument": {"InstrumentID": 7}, "RequestID": 7}',
     "RspQryInstrument", -400, "QryInstrument.InstrumentID: expected text"),
    ('{"MsgType": "ReqQryInstrument", "QryInstrument": {"Color": "red"}, "RequestID": 8}',
     "RspQryInstrument", -400, "QryInstrument.Color: unknown field"),
    ('{"MsgType": "ReqOrderInsert", "InputOrder": {"Direction": "B"}, "RequestID": 9}',
     "RspOrderInsert", -400, "InputOrder.Direction"),
]


async def test_each_bad_input_is_answered_and_the_socket_survives(td_url: str) -> None:
    async with connect(td_url) as ws:
        # Before login: -401, with the request's own response type and RequestID.
        await ws.send('{"MsgType": "ReqQryTradingAccount", "RequestID": 1}')
        reply = orjson.loads(await ws.recv())
        assert (reply["MsgType"], reply["RspInfo"]["ErrorID"], reply["RequestID"]) == (
            "RspQryTradingAccount", -401, 1)
        for raw, msg_type, error_id, detail in CASES:
            await ws.send(raw)
            reply = orjson.loads(await ws.recv())
            assert reply["MsgType"] == msg_type, raw
            assert reply["RspInfo"]["ErrorID"] == error_id, raw
            assert detail in reply["Detail"], (raw, reply)
            assert reply["IsLast"] is True
        await ws.send(b'{"MsgType": "ReqQryOrder", "RequestID": 10}')  # a binary frame
        reply = orjson.loads(await ws.recv())
        assert reply["RspInfo"]["ErrorID"] == -401
        await ws.send(orjson.dumps({"MsgType": "ReqUserLogin", "RequestID": 11,
                                    "ReqUserLogin": {"UserID": "badinput", "Password": "x"}}))
        reply = orjson.loads(await ws.recv())
        assert reply["RspInfo"]["ErrorID"] == 0 and reply["RequestID"] == 11


async def test_oversized_frames(td_url: str) -> None:
    async with connect(td_url, max_size=None) as ws:
        big = '{"MsgType": "ReqQryOrder", "RequestID": 3, "Pad": "' + "x" * 70_000 + '"}'
        await ws.send(big)  # over max_message_bytes (64 KiB): answered, socket kept
        reply = orjson.loads(await ws.recv())
        assert reply["RspInfo"]["ErrorID"] == -400 and "exceeds the limit" in reply["Detail"]
        await ws.send('{"MsgType": "ReqQryOrder", "RequestID": 4}')
        assert orjson.loads(await ws.recv())["RequestID"] == 4
    ws = await connect(td_url, max_size=None)
    await ws.send("x" * (5 * 1024 * 1024))  # over max_frame_bytes: closed with 1009
    with pytest.raises(ConnectionClosed) as info:
        await ws.recv()
    assert info.value.rcvd.code == 1009
    await ws.wait_closed()  # the server ended it; nothing left for us to close


async def test_bad_client_does_not_disturb_another(td_url: str) -> None:
    good = await Trader.connect(td_url)
    try:
        async with connect(td_url) as bad:
            for raw, *_ in CASES * 20:
                await bad.send(raw)
            acct = await good.account()
            assert acct["Balance"] > 0
            for _ in CASES * 20:
                await bad.recv()
    finally:
        await good.close()
