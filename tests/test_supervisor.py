"""--app_type=all: both servers as children, restarted on crash, stopped on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from tests.support import REPO


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


class Lines:
    """Reads a process's stdout on a thread so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with self._cond:
                self.lines.append(line.rstrip())
                self._cond.notify_all()

    def wait_for(self, pattern: str, start: int = 0, timeout: float = 60) -> int:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i in range(start, len(self.lines)):
                    if regex.search(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                assert left > 0, f"no line matching {pattern!r} in {self.lines}"
                self._cond.wait(left)


def test_all_supervises_and_stops_cleanly(tmp_path: Path) -> None:
    for app in ("md", "td"):
        (tmp_path / f"{app}.yaml").write_text(yaml.safe_dump(
            {"port": 0, "backend": "sim", "sim": {"seed": 1, "tick_interval_ms": 500}}))
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "wsbridge", "--app_type=all",
         f"--md-config={tmp_path / 'md.yaml'}", f"--td-config={tmp_path / 'td.yaml'}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env)
    out = Lines(process)
    try:
        at = out.wait_for(r"Web trading page:\s+http://127\.0\.0\.1:\d+/")
        first = sorted(children_of(process.pid))
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)  # a crash
        out.wait_for(r"exited with status -9; restarting", at)
        out.wait_for(r"wsbridge (md|td) ready", at + 1)
        second = sorted(children_of(process.pid))
        assert len(second) == 2 and first[0] not in second
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert not any(alive(pid) for pid in second)
        out.wait_for("wsbridge: stopped")
    finally:
        if process.poll() is None:
            process.kill()
        for pid in children_of(process.pid):
            os.kill(pid, signal.SIGKILL)
