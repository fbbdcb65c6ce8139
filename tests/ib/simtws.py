"""Running sim-tws for tests: ``python -m wsbridge sim-tws`` on a free loopback port.

    with SimTws(tmp_path) as tws:
        await ib.connectAsync("127.0.0.1", tws.port, clientId=1)

``restart()`` starts it again on the same port (and journal), as after TWS's daily restart.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support import REPO

READY = re.compile(r"wsbridge sim-tws ready: (\S+):(\d+)")
START_TIMEOUT = 60.0
ACCOUNT = "DU7654321"


class SimTws:
    """One sim-tws process; its stderr goes to ``sim-tws.log`` in ``workdir``."""

    def __init__(self, workdir: Path, journal: bool = True, tick_interval_ms: int = 200,
                 seed: int = 7) -> None:
        self.workdir = Path(workdir)
        self.journal = str(self.workdir / "tws.sqlite") if journal else None
        self.args = ["--account", ACCOUNT, "--seed", str(seed),
                     "--tick-interval-ms", str(tick_interval_ms)]
        self.log_path = self.workdir / "sim-tws.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self, port: int | None = None) -> SimTws:
        argv = [sys.executable, "-m", "wsbridge", "sim-tws", "--port", str(port or 0),
                *self.args, *(["--journal", self.journal] if self.journal else [])]
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
                raise RuntimeError(f"sim-tws did not start:\n{self.log()}")
        return self

    def restart(self) -> SimTws:
        """Start again on the same port (after :meth:`kill`)."""
        return self.start(self.port)

    def toggle_link(self) -> None:
        """Drop, or restore, TWS's link to IB (SIGUSR1): clients see 1100, then 1101."""
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR1)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> SimTws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.terminate()
