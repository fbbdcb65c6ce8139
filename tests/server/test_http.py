"""Plain HTTP on a server's port: the page, its module, and nothing outside web/."""

from __future__ import annotations

import http.client
from pathlib import Path

from tests.support import ServerProcess


def get(port: int, path: str) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_static_files(tmp_path: Path) -> None:
    with ServerProcess("md", {"backend": "sim", "sim": {"seed": 1}}, tmp_path) as md:
        status, headers, body = get(md.port, "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"wsbridge" in body
        status, headers, body = get(md.port, "/wsbridge.mjs")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript")
        assert headers["Access-Control-Allow-Origin"] == "*"  # importable from other pages
        assert b"export" in body
        for path in ("/nope.html", "/../pyproject.toml", "/%2e%2e/pyproject.toml",
                     "/..%2fpyproject.toml"):
            status, _, body = get(md.port, path)
            assert status == 404, path
            assert b"[project]" not in body
