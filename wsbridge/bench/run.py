"""The benchmark's schedule: which phases run, against what, and what each one measured.

For each client count, the same client processes hold that many connections to the
wsbridge md server (logged in, subscribed to every bench instrument) and as many to the
ceiling server. Phases:

- wsbridge, flat out: ``batch`` ticks per loop turn for ``seconds``; the delivered rate
  is the sustained maximum;
- wsbridge, flat out, with the ticks coming from another thread through the
  ThreadBridge (as an SDK's callbacks do), once;
- wsbridge, half: a fixed tick rate that delivers half that maximum (latency under load);
- each ceiling (broadcast / frame / coalesce), flat out, same batch and duration.

Then, on a fresh server with its default keep-alive pings, ``idle`` connections are
opened, logged in and subscribed, and the server's CPU and RSS are read over
``idle_seconds`` of silence.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from wsbridge.bench import procs, ticks
from wsbridge.bench.ceilings import MODES
from wsbridge.bench.swarm import raise_fd_limit

BRIDGE = "wsbridge"
BRIDGE_THREAD = "wsbridge-thread"  # ticks from an SDK-like thread, via ThreadBridge


@dataclass(slots=True)
class Options:
    clients: list[int] = field(default_factory=lambda: [1, 10, 100, 1000])
    seconds: float = 2.0  # per phase
    repeats: int = 2  # flat-out phases run this many times, interleaved; best one counts
    batch: int = 10  # ticks per loop turn, flat out
    instruments: int = 50  # every client subscribes to all of them
    workers: int = 2  # client processes
    idle: int = 10_000  # idle connections (0: skip)
    idle_seconds: float = 20.0  # one keep-alive ping interval
    ceilings: bool = True
    quiet: float = 0.3  # a phase ends this long after the last byte arrives

    @classmethod
    def quick(cls) -> Options:
        """A few seconds in all: for the test suite, not for numbers."""
        return cls(clients=[1, 10], seconds=0.4, repeats=1, idle=100, idle_seconds=0.5)


@dataclass(slots=True)
class Phase:
    """What one phase injected and what the clients got."""

    target: str  # "wsbridge" or a ceiling mode
    clients: int
    load: str  # "max" (flat out) or "half" (fixed rate, half the max delivered)
    rate: float | None  # ticks/s asked for; None flat out
    attempt: int  # phases run `repeats` times; the best counts
    injected: int  # ticks injected
    inject_seconds: float
    deliver_seconds: float  # first injection to last byte received
    delivered: int  # messages the clients received
    conflated: int  # quotes the server replaced before a slow client read them
    p50_ms: float
    p99_ms: float
    max_ms: float
    samples: int
    server_cpu: float  # % of one core during the injection
    server_cpu_s: float  # CPU seconds the server spent during the injection
    server_rss_mb: float
    clients_cpu: float  # % of one core, every client process together
    misaligned: int  # connections whose byte count is not whole frames
    closed: int  # connections lost during the phase

    @property
    def expected(self) -> int:
        return self.injected * self.clients

    @property
    def consistent(self) -> bool:
        """Every message injected reached every subscriber or was conflated, exactly."""
        return (self.delivered + self.conflated == self.expected and not self.misaligned
                and not self.closed)

    @property
    def delivered_per_s(self) -> float:
        return self.delivered / self.deliver_seconds if self.deliver_seconds else 0.0

    @property
    def cpu_us_per_msg(self) -> float:
        """Server CPU per delivered message: unlike msg/s, not lowered when other
        processes take the CPU away."""
        return 1e6 * self.server_cpu_s / self.delivered if self.delivered else 0.0

    @property
    def ticks_per_s(self) -> float:
        return self.injected / self.inject_seconds if self.inject_seconds else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "expected": self.expected, "consistent": self.consistent,
                "delivered_per_s": self.delivered_per_s, "ticks_per_s": self.ticks_per_s,
                "cpu_us_per_msg": self.cpu_us_per_msg}


@dataclass(slots=True)
class Idle:
    connections: int  # asked for
    held: int  # still open at the end
    connect_seconds: float
    seconds: float
    server_cpu: float  # % of one core
    server_rss_mb: float
    pings_answered: int  # keep-alive pings during the watch


@dataclass(slots=True)
class Results:
    options: Options
    machine: dict
    phases: list[Phase] = field(default_factory=list)
    idle: Idle | None = None
    seconds: float = 0.0

    def phase(self, target: str, clients: int, load: str = "max") -> Phase | None:
        """The best run (most delivered per second) of one phase."""
        runs = [p for p in self.phases if (p.target, p.clients, p.load)
                == (target, clients, load)]
        return max(runs, key=lambda p: p.delivered_per_s, default=None)

    def best(self) -> list[Phase]:
        """The best run of each phase, in the order they first ran."""
        keys = dict.fromkeys((p.target, p.clients, p.load) for p in self.phases)
        return [self.phase(*key) for key in keys]

    def to_dict(self) -> dict:
        return {"options": asdict(self.options), "machine": self.machine,
                "frame_bytes": ticks.FRAME_LEN,
                "phases": [p.to_dict() for p in self.phases],
                "idle": asdict(self.idle) if self.idle else None, "seconds": self.seconds}


def machine() -> dict:
    """What the numbers were measured on."""
    import orjson
    import websockets

    info = {"python": platform.python_version(), "kernel": platform.release(),
            "websockets": websockets.__version__, "orjson": orjson.__version__}
    try:
        import uvloop

        info["uvloop"] = uvloop.__version__
    except ImportError:
        info["uvloop"] = "not installed (asyncio loop)"
    lscpu = shutil.which("lscpu")
    if lscpu:
        out = subprocess.run([lscpu], capture_output=True, text=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Hypervisor vendor"):
                info[key.strip()] = value.strip()
    info["load average"] = f"{os.getloadavg()[0]:.2f}"  # other work on the machine
    with open("/proc/meminfo") as meminfo:
        info["memory"] = f"{int(meminfo.readline().split()[1]) / 1048576:.1f} GiB"
    return info


class Bench:
    """Runs the phases in :class:`Options` and collects :class:`Results`."""

    def __init__(self, options: Options, workdir: Path, progress=print) -> None:
        self.options = options
        self.workdir = workdir
        self.progress = progress
        self.instruments = ticks.instrument_ids(options.instruments)
        self.results = Results(options, machine())
        self.held: dict[str, list[int]] = {}  # group -> connections per worker

    def run(self) -> Results:
        started = time.monotonic()
        o = self.options
        files = raise_fd_limit()
        if o.idle > files - 256:  # the server holds one descriptor per connection
            self.progress(f"  open-files limit is {files}: holding {files - 256} idle "
                          f"connections, not {o.idle}")
            o.idle = max(0, files - 256)
        self.swarm = procs.Swarm(o.workers, self.workdir / "clients.log")
        try:
            self._throughput()
            if o.idle:
                self.results.idle = self._idle()
        finally:
            self.swarm.stop()
        self.results.seconds = time.monotonic() - started
        self.results.machine["load average (start, end)"] = \
            f"{self.results.machine.pop('load average')}, {os.getloadavg()[0]:.2f}"
        return self.results

    def _throughput(self) -> None:
        """Every client count against wsbridge and the ceilings."""
        o = self.options
        services: list[procs.Service] = []
        try:
            bridge = procs.start_bridge(self.workdir, "md", procs.bridge_config(
                self.workdir / "inject.sock", o.instruments))
            services.append(bridge)
            inject = procs.Control(self.workdir / "inject.sock")
            ceilings = ceiling_control = None
            if o.ceilings:
                ceilings = procs.start_ceilings(self.workdir, self.workdir / "ceilings.sock",
                                                o.instruments)
                services.append(ceilings)
                ceiling_control = procs.Control(self.workdir / "ceilings.sock")
            for n in o.clients:
                self._grow(BRIDGE, bridge.url, n, login=True)
                if ceilings is not None:
                    self._grow("ceilings", ceilings.url, n, login=False)
                for attempt in range(o.repeats):  # interleaved; the best of each counts
                    self._phase(BRIDGE, n, bridge, inject, None, attempt)
                    if ceilings is not None:
                        for mode in MODES:
                            self._phase(mode, n, ceilings, ceiling_control, None, attempt)
                self._phase(BRIDGE_THREAD, n, bridge, inject, None, 0)
                half = self.results.phase(BRIDGE, n).delivered_per_s / n / 2
                if half > 0:
                    self._phase(BRIDGE, n, bridge, inject, half, 0)
            for group in list(self.held):
                self._close(group)
            inject.close()
            if ceiling_control is not None:
                ceiling_control.close()
        finally:
            for service in services:
                service.stop()

    # --- connections ---------------------------------------------------------------------

    def _grow(self, group: str, url: str, total: int, login: bool) -> None:
        """Open connections until the group holds ``total``, spread over the workers."""
        workers = len(self.swarm.procs)
        held = self.held.setdefault(group, [0] * workers)
        commands: list[dict | None] = []
        for i in range(workers):
            want = total // workers + (1 if i < total % workers else 0)
            more = want - held[i]
            commands.append({"cmd": "connect", "group": group, "url": url, "count": more,
                             "login": login, "instruments": self.instruments}
                            if more > 0 else None)
        for i, answer in enumerate(self.swarm.send(commands)):
            if answer is None:
                continue
            if answer["failed"] or answer["connected"] != commands[i]["count"]:
                raise RuntimeError(f"{group}: {answer['failed']} connections failed: "
                                   f"{answer['errors']}")
            held[i] += answer["connected"]

    def _close(self, group: str) -> None:
        self.swarm.all(cmd="close", group=group)
        self.held.pop(group, None)

    # --- one phase -----------------------------------------------------------------------

    def _phase(self, target: str, n: int, service: procs.Service, control: procs.Control,
               rate: float | None, attempt: int) -> Phase:
        o = self.options
        ours = target in (BRIDGE, BRIDGE_THREAD)
        group = BRIDGE if ours else "ceilings"
        self.swarm.all(cmd="settle", group=group, quiet=0.2)
        resets = self.swarm.all(cmd="reset", group=group)
        conflated_before = procs.health(service)["conflated_quotes"] if ours else 0
        command = {"cmd": "ticks", "rate": rate, "seconds": o.seconds, "batch": o.batch}
        if target == BRIDGE_THREAD:
            command["thread"] = True
        elif not ours:
            command["mode"] = target
        cpu0, wall0 = procs.cpu_seconds(service.pid), time.monotonic()
        injected = control(**command)
        cpu1, wall1 = procs.cpu_seconds(service.pid), time.monotonic()
        drains = self.swarm.all(cmd="drain", group=group, expected=injected["injected"],
                                quiet=o.quiet)
        conflated = procs.health(service)["conflated_quotes"] - conflated_before \
            if ours else 0
        samples = sorted(s for d in drains for s in d["samples_us"])
        last = max(d["last_ns"] for d in drains)
        deliver_ns = last - injected["start_ns"] if last else 0
        client_cpu = sum(d["cpu"] for d in drains) - sum(r["cpu"] for r in resets)
        phase = Phase(
            target=target, clients=n, load="max" if rate is None else "half", rate=rate,
            attempt=attempt,
            injected=injected["injected"],
            inject_seconds=(injected["end_ns"] - injected["start_ns"]) / 1e9,
            deliver_seconds=deliver_ns / 1e9,
            delivered=sum(d["frames"] for d in drains),
            conflated=conflated,
            p50_ms=_percentile(samples, 0.50), p99_ms=_percentile(samples, 0.99),
            max_ms=samples[-1] / 1000 if samples else 0.0, samples=len(samples),
            server_cpu=100 * (cpu1 - cpu0) / (wall1 - wall0),
            server_cpu_s=cpu1 - cpu0,
            server_rss_mb=procs.rss_bytes(service.pid) / 2**20,
            clients_cpu=100 * client_cpu / (deliver_ns / 1e9) if deliver_ns else 0.0,
            misaligned=sum(d["misaligned"] for d in drains),
            closed=sum(d["closed"] for d in drains),
        )
        self.results.phases.append(phase)
        self.progress(f"  {target:15} {n:5} clients {phase.load:4}: "
                      f"{phase.delivered_per_s:10,.0f} msg/s  p99 {phase.p99_ms:7.2f} ms  "
                      f"server CPU {phase.server_cpu:3.0f}%  conflated {phase.conflated}")
        return phase

    # --- idle connections ----------------------------------------------------------------

    def _idle(self) -> Idle:
        o = self.options
        control_path = self.workdir / "idle.sock"
        server = procs.start_bridge(self.workdir, "idle", procs.bridge_config(
            control_path, o.instruments, keepalive=True))
        try:
            started = time.monotonic()
            self._grow("idle", server.url, o.idle, login=True)
            connect_seconds = time.monotonic() - started
            self.swarm.all(cmd="settle", group="idle", quiet=0.3)
            before = self.swarm.all(cmd="status", group="idle")
            cpu0, wall0 = procs.cpu_seconds(server.pid), time.monotonic()
            time.sleep(o.idle_seconds)
            cpu1, wall1 = procs.cpu_seconds(server.pid), time.monotonic()
            rss = procs.rss_bytes(server.pid)
            status = self.swarm.all(cmd="status", group="idle")
            idle = Idle(connections=o.idle, held=sum(s["open"] for s in status),
                        connect_seconds=connect_seconds, seconds=wall1 - wall0,
                        server_cpu=100 * (cpu1 - cpu0) / (wall1 - wall0),
                        server_rss_mb=rss / 2**20,
                        pings_answered=sum(s["pongs"] for s in status)
                        - sum(s["pongs"] for s in before))
            self.progress(f"  idle: {idle.held:,} connections held, server RSS "
                          f"{idle.server_rss_mb:,.0f} MB, CPU {idle.server_cpu:.1f}%")
            self._close("idle")
            return idle
        finally:
            server.stop()


def _percentile(ordered: list[int], q: float) -> float:
    """The q-quantile of sorted microsecond samples, in milliseconds."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


def run(options: Options, workdir: Path | None = None, progress=print) -> Results:
    """Run the benchmark; its processes' logs go to ``workdir`` (a temporary one if None)."""
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        return Bench(options, workdir, progress).run()
    with tempfile.TemporaryDirectory(prefix="wsbridge-bench-") as tmp:
        return Bench(options, Path(tmp), progress).run()
