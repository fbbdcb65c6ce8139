"""The benchmark's processes: starting them, commanding them, reading /proc about them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

import orjson
import yaml

from wsbridge.bench.inject import NAME as INJECT

READY = re.compile(r"ready: (ws://\S+)")
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _env() -> dict[str, str]:
    """Children import this checkout's wsbridge, whatever the current directory."""
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


class Service:
    """A child process that prints ``... ready: ws://host:port/`` once it listens."""

    def __init__(self, argv: list[str], log_path: Path, timeout: float = 60.0) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log,
                                        text=True, env=_env())
        self.url = ""
        found = threading.Event()

        def read() -> None:
            for line in self.process.stdout:
                match = READY.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{argv[2]} did not start; log:\n{self.log()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        return self.url.replace("ws://", "http://")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def bridge_config(control: Path, instruments: int, app_type: str = "md",
                  keepalive: bool = False, **limits) -> dict:
    """A server config with the ``bench-inject`` back end and room for many clients."""
    return {
        "app_type": app_type,
        "backend": INJECT,
        "log_level": "warning",
        INJECT: {"control": str(control), "instruments": instruments},
        "limits": {
            "max_connections": 20_000,
            "max_connections_per_ip": 20_000,
            # Pings would interleave control frames with the counted ticks.
            **({} if keepalive else {"ping_interval": None}),
            **limits,
        },
    }


def start_bridge(workdir: Path, name: str, config: dict) -> Service:
    """``python -m wsbridge.bench.server`` (``python -m wsbridge`` + bench-inject)."""
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-m", "wsbridge.bench.server", f"--app_type={config['app_type']}",
            f"--config={path}", "--port=0"]
    return Service(argv, workdir / f"{name}.log")


def start_ceilings(workdir: Path, control: Path, instruments: int) -> Service:
    argv = [sys.executable, "-m", "wsbridge.bench.ceilings", f"--control={control}",
            f"--instruments={instruments}"]
    return Service(argv, workdir / "ceilings.log")


class Control:
    """A command line to a control socket: one JSON object each way."""

    def __init__(self, path: Path) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.reader = self.sock.makefile("rb")

    def __call__(self, **command) -> dict:
        self.sock.settimeout(float(command.get("seconds", 0)) + 60)
        self.sock.sendall(orjson.dumps(command) + b"\n")
        line = self.reader.readline()
        if not line:
            raise RuntimeError(f"{command.get('cmd')}: control socket closed (server gone?)")
        answer = orjson.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{command.get('cmd')}: {answer['error']}")
        return answer

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class Swarm:
    """Client worker processes (``python -m wsbridge.bench.swarm``), commanded together."""

    def __init__(self, workers: int, log_path: Path) -> None:
        self._log = open(log_path, "ab")  # noqa: SIM115
        self.procs = [subprocess.Popen([sys.executable, "-m", "wsbridge.bench.swarm"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=self._log, env=_env())
                      for _ in range(workers)]

    def send(self, commands: list[dict | None]) -> list[dict | None]:
        """Command each worker (None: leave it alone); returns their answers."""
        for proc, command in zip(self.procs, commands, strict=True):
            if command is not None:
                _write(proc.stdin, command)
        answers: list[dict | None] = []
        for proc, command in zip(self.procs, commands, strict=True):
            if command is None:
                answers.append(None)
                continue
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"client worker {proc.pid} died")
            answer = orjson.loads(line)
            if "error" in answer:
                raise RuntimeError(f"client worker: {command['cmd']}: {answer['error']}")
            answers.append(answer)
        return answers

    def all(self, **command) -> list[dict]:
        return [a for a in self.send([command] * len(self.procs)) if a is not None]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    _write(proc.stdin, {"cmd": "exit"})
                    proc.stdin.close()
                    proc.wait(10)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
                    proc.wait()
        self._log.close()


def _write(stream: IO[bytes], command: dict) -> None:
    stream.write(orjson.dumps(command) + b"\n")
    stream.flush()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def rss_bytes(pid: int) -> int:
    """Resident memory of a process now."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def health(service: Service) -> dict:
    with urllib.request.urlopen(service.http_url + "healthz", timeout=10) as answer:
        return orjson.loads(answer.read())
