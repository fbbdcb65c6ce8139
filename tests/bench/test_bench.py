"""``python -m wsbridge.bench --quick``: it runs, and its numbers add up."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from tests.support import REPO
from wsbridge.bench.ceilings import MODES


def test_quick_run_reports_consistent_numbers(tmp_path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run(
        [sys.executable, "-m", "wsbridge.bench", "--quick", "--json", str(out),
         "--workdir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "delivered msg/s" in run.stdout and "wsbridge flat out ÷ ceiling" in run.stdout

    results = orjson.loads(out.read_bytes())
    clients = results["options"]["clients"]
    phases = results["phases"]
    measured = {(p["target"], p["clients"], p["load"]) for p in phases}
    targets = ("wsbridge", "wsbridge-thread", *MODES)
    assert measured == {(t, n, "max") for n in clients for t in targets} | \
        {("wsbridge", n, "half") for n in clients}

    for p in phases:
        # Every tick injected reached every subscriber, or was conflated for it.
        assert p["injected"] > 0
        assert p["delivered"] + p["conflated"] == p["injected"] * p["clients"], p
        assert p["misaligned"] == 0 and p["closed"] == 0
        if p["target"] in MODES:
            assert p["conflated"] == 0  # the ceilings never drop: they wait
        assert p["samples"] > 0 and 0 < p["p50_ms"] <= p["p99_ms"] <= p["max_ms"]
        assert p["server_rss_mb"] > 0 and p["delivered_per_s"] > 0

    for n in clients:
        top = max((p for p in phases if (p["target"], p["clients"], p["load"])
                   == ("wsbridge", n, "max")), key=lambda p: p["delivered_per_s"])
        half = next(p for p in phases if (p["target"], p["clients"], p["load"])
                    == ("wsbridge", n, "half"))
        assert half["rate"] * n * 2 == pytest.approx(top["delivered_per_s"])

    idle = results["idle"]
    assert idle["held"] == idle["connections"] == results["options"]["idle"]
    assert idle["server_rss_mb"] > 0
