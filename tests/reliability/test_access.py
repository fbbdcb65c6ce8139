"""Who may connect: tokens, address allow-list, TLS, and the default bind address."""

from __future__ import annotations

import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support import ServerProcess
from wsbridge.client import Client

SIM = {"backend": "sim", "sim": {"seed": 1}}


async def test_tokens_gate_the_upgrade(tmp_path: Path) -> None:
    config = {**SIM, "tokens": ["alpha-token", "beta-token"]}
    with ServerProcess("td", config, tmp_path) as td:
        with pytest.raises(InvalidStatus) as info:
            await connect(td.url)
        assert info.value.response.status_code == 401
        with pytest.raises(InvalidStatus):
            await Client.connect(td.url, token="wrong-token")
        with pytest.raises(InvalidStatus):
            await connect(td.url + "?token=alpha")  # a prefix is not the token
        async with await Client.connect(td.url, token="beta-token") as c:
            assert (await c.login("tok", "pw"))["UserID"] == "tok"
        async with await Client.connect(td.url + "?token=alpha-token") as c:  # browsers
            assert (await c.login("tok", "pw"))["UserID"] == "tok"
        # The page itself stays reachable so a browser can load it and then connect.
        with urllib.request.urlopen(td.http_url + "healthz", timeout=10) as r:
            assert r.status == 200
        assert "alpha-token" not in td.log() and "beta-token" not in td.log()


async def test_allow_list(tmp_path: Path) -> None:
    with ServerProcess("td", {**SIM, "allow": ["10.0.0.0/8"]}, tmp_path, "deny") as td:
        with pytest.raises(InvalidStatus) as info:
            await connect(td.url)
        assert info.value.response.status_code == 403
    with ServerProcess("td", {**SIM, "allow": ["127.0.0.0/8", "::1/128"]}, tmp_path,
                       "allow") as td:
        async with await Client.connect(td.url) as c:
            await c.login("allowed", "pw")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


async def test_tls(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    config = {**SIM, "tls": {"certfile": str(cert), "keyfile": str(key)}}
    with ServerProcess("td", config, tmp_path) as td:
        assert td.url.startswith("wss://")
        context = ssl.create_default_context(cafile=str(cert))
        async with await Client.connect(td.url, ssl=context) as c:
            assert (await c.login("secure", "pw"))["UserID"] == "secure"
        plain = td.url.replace("wss://", "ws://")
        with pytest.raises(Exception):  # noqa: B017 - any failure: no plaintext service
            await connect(plain, open_timeout=5)


def test_binding_everywhere_without_tokens_warns(tmp_path: Path) -> None:
    with ServerProcess("md", {**SIM, "host": "0.0.0.0"}, tmp_path) as md:
        assert "no access tokens" in md.log()
    with ServerProcess("md", {**SIM, "host": "0.0.0.0", "tokens": ["t"]}, tmp_path,
                       "quiet") as md:
        assert "no access tokens" not in md.log()
    with ServerProcess("md", SIM, tmp_path, "default") as md:
        assert md.url.startswith("ws://127.0.0.1:")
