"""The real openctp API (not the stand-in) against fronts that are not there: a client
gets a timely ErrorID 8 saying why, never a hang."""

from __future__ import annotations

import asyncio
import socket

from tests.ctp.conftest import health
from tests.support import ServerProcess
from wsbridge.client import Client

CONNECT_TIMEOUT = 2.0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once it is closed


async def login(client: Client, user: str) -> dict:
    """ReqUserLogin with a deadline well past the connect timeout: a hang fails the test."""
    (answer,) = await client.call("ReqUserLogin", {"UserID": user, "Password": "pw"},
                                  timeout=CONNECT_TIMEOUT + 20)
    return answer


def real_config(app: str, address: str, workdir) -> dict:
    key = "TdFrontAddress" if app == "td" else "MdFrontAddress"
    return {"backend": "ctp", "ctp": {
        key: address, "BrokerID": "9999", "AppID": "wsbridge_test", "AuthCode": "0" * 16,
        "connect_timeout": CONNECT_TIMEOUT, "ConFilePath": str(workdir / "flow")}}


async def test_td_login_to_a_closed_port_fails_with_error_8(tmp_path) -> None:
    address = f"tcp://127.0.0.1:{closed_port()}"
    with ServerProcess("td", real_config("td", address, tmp_path), tmp_path) as td:
        async with await Client.connect(td.url) as client:
            answer = await login(client, "000001")
        assert answer["RspInfo"]["ErrorID"] == 8
        assert address in answer["RspInfo"]["ErrorMsg"]
        assert "no connection" in answer["RspInfo"]["ErrorMsg"]
        assert health(td)["backend"]["sessions"] == []  # released, not left retrying


async def test_md_clients_learn_the_front_is_unreachable(tmp_path) -> None:
    address = f"tcp://127.0.0.1:{closed_port()}"
    with ServerProcess("md", real_config("md", address, tmp_path), tmp_path) as md:
        async with await Client.connect(md.url) as client:
            answer = await login(client, "")
            assert answer["RspInfo"]["ErrorID"] == 8
            down = await client.next_push("FrontDisconnected", timeout=CONNECT_TIMEOUT + 20)
            assert down["RspInfo"]["ErrorID"] == 8
            assert address in down["RspInfo"]["ErrorMsg"]
        assert health(md)["upstream_connected"] is False
        assert md.terminate() == 0  # the real API, still retrying, is released cleanly


async def test_a_front_that_hangs_up_reaches_the_generated_spi(tmp_path) -> None:
    """Accept and close: the real API calls OnFrontDisconnected on its own thread."""
    accepted = 0

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.read(64)  # CTP's handshake
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = real_config("td", f"tcp://127.0.0.1:{port}", tmp_path)
        with ServerProcess("td", config, tmp_path) as td:
            async with await Client.connect(td.url) as client:
                answer = await login(client, "000001")
        assert answer["RspInfo"]["ErrorID"] == 8
        assert accepted >= 1
        # CTP's own reason code, from OnFrontDisconnected on the API's thread
        assert "reason 0x1001" in answer["RspInfo"]["ErrorMsg"]
    finally:
        server.close()
        await server.wait_closed()
