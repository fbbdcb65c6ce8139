"""web/wsbridge.mjs used from Node (its built-in WebSocket) against a real td server."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.support import REPO, ServerProcess
from tests.web.conftest import td_config

SCRIPT = Path(__file__).with_name("node_client.mjs")
NODE = shutil.which("node")
RUN_TIMEOUT = 180  # seconds: a stuck run is killed, failing the test instead of hanging it

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def node_argv() -> list[str]:
    """Node 22 has WebSocket built in; Node 20 needs --experimental-websocket."""
    probe = subprocess.run([NODE, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
                           capture_output=True)
    return [NODE] if probe.returncode == 0 else [NODE, "--experimental-websocket"]


def test_module_logs_in_queries_trades_and_reconnects(tmp_path: Path) -> None:
    token = "node-test-token"
    with ServerProcess("td", {**td_config(tmp_path), "tokens": [token]}, tmp_path) as td:
        node = subprocess.Popen(
            [*node_argv(), str(SCRIPT), td.url, f"node{os.getpid()}", token],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=REPO)
        seen: list[str] = []
        watchdog = threading.Timer(RUN_TIMEOUT, node.kill)
        watchdog.start()
        try:
            assert node.stdout is not None and node.stdin is not None
            for line in node.stdout:
                seen.append(line.strip())
                if line.strip() == "restart?":
                    td.terminate()
                    td.start(port=td.port)
                    node.stdin.write("go\n")
                    node.stdin.flush()
            code = node.wait()
        finally:
            watchdog.cancel()
            if node.poll() is None:
                node.kill()
            node.wait()
        stderr = node.stderr.read() if node.stderr else ""
        assert code == 0, f"node failed after {seen}:\n{stderr}\n{td.log()[-3000:]}"
    steps = [s.split(" ")[1] for s in seen if s.startswith("ok ")]
    assert steps == ["body", "connect", "token", "not", "login", "queries", "bad", "order", "saw",
                     "reconnected", "closed"], seen
