"""Fixtures for the Futu back end: a real sim-opend process, futu-api imported safely."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support import REPO

READY = re.compile(r"sim-opend ready: (\S+):(\d+)")
START_TIMEOUT = 60.0


class SimOpend:
    """``python -m wsbridge sim-opend`` on a free (or given) loopback port."""

    def __init__(self, workdir: Path, journal: bool = True, name: str = "sim-opend") -> None:
        self.workdir = Path(workdir)
        self.journal = str(self.workdir / f"{name}.sqlite") if journal else None
        self.log_path = self.workdir / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self, port: int | None = None) -> SimOpend:
        argv = [sys.executable, "-m", "wsbridge", "sim-opend", "--port", str(port or 0),
                "--tick-ms", "200"]
        if self.journal:
            argv += ["--journal", self.journal]
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
        log = open(self.log_path, "a")  # noqa: SIM115 - kept for the process lifetime
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True,
                                        cwd=self.workdir, env=env)
        ready = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                match = READY.search(line)
                if match:
                    self.port = int(match.group(2))
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"sim-opend did not start:\n{self.log_path.read_text()}")
        return self

    def kill(self) -> None:
        """SIGKILL, as when OpenD crashes."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def __enter__(self) -> SimOpend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self.kill()


@pytest.fixture(scope="session")
def futu():
    """futu-api, imported without its os._exit SIGINT handler."""
    from wsbridge.simulators.opend.protos import import_futu

    module = import_futu()
    module.SysConfig.set_all_thread_daemon(True)
    return module


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (for futu-api's threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
