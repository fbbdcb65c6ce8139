"""Running real server processes for tests: the same command a user types, on loopback.

    with ServerProcess("td", {"backend": "sim", "sim": {...}}, tmp_path) as td:
        client = await Client.connect(td.url)

Each server listens on a free port chosen by the OS (``--port=0``); the URL is read from
the ``wsbridge <app> ready: <url>`` line the server prints. The process's stderr goes to
a log file in the test's tmp directory, printed when a test fails to start it. The
protocol simulators (sim-tws, sim-opend) run the same way (:class:`ToolProcess`).
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
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


class ToolProcess:
    """A ``python -m wsbridge ...`` process that prints a ready line when it listens.

    Subclasses give the arguments (:meth:`argv`) and the ready-line pattern, whose last
    group is the port. stderr goes to ``<name>.log`` in ``workdir``.
    """

    ready_pattern: re.Pattern[str]

    def __init__(self, workdir: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.name = name
        self.log_path = self.workdir / f"{name}.log"
        self.env = env
        self.process: subprocess.Popen | None = None
        self.ready_match: re.Match[str] | None = None
        self.port: int = 0
        self.stdout_lines: list[str] = []

    def argv(self, port: int) -> list[str]:
        raise NotImplementedError

    def start(self, port: int | None = None) -> ToolProcess:
        """Start and wait until it listens; ``port`` reuses a port (for restarts)."""
        # The checkout under test, not whatever wsbridge is installed.
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path, **(self.env or {})}
        log = open(self.log_path, "a")  # noqa: SIM115 - kept for the process lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wsbridge", *self.argv(port or 0)], stdout=subprocess.PIPE,
            stderr=log, text=True, cwd=self.workdir, env=env)
        ready = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.stdout_lines.append(line.rstrip())
                match = self.ready_pattern.search(line)
                if match:
                    self.ready_match = match
                    self.port = int(match.groups()[-1])
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name} did not start:\n{self.log()}")
        return self

    def restart(self) -> ToolProcess:
        """Start again on the same port (after :meth:`kill` or :meth:`terminate`)."""
        return self.start(self.port)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        try:
            self.terminate()
        finally:
            self.kill()


class ServerProcess(ToolProcess):
    """``python -m wsbridge --app_type=<app>`` with a config written to ``workdir``."""

    ready_pattern = re.compile(r"wsbridge (md|td) ready: (\S+:(\d+)/)")

    def __init__(self, app_type: str, config: dict[str, Any], workdir: Path,
                 name: str | None = None, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(workdir, name or app_type, env)
        self.app_type = app_type
        self.config_path = self.workdir / f"{self.name}.yaml"
        self.config_path.write_text(yaml.safe_dump({"app_type": app_type, **config}))
        self.extra_args = extra_args or []

    def argv(self, port: int) -> list[str]:
        return [f"--app_type={self.app_type}", f"--config={self.config_path}",
                f"--port={port}", *self.extra_args]

    @property
    def url(self) -> str:
        return self.ready_match.group(2) if self.ready_match else ""

    @property
    def http_url(self) -> str:
        return self.url.replace("ws://", "http://").replace("wss://", "https://")
