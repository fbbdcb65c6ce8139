"""Starting a CTP server that cannot work: one line saying why, exit status 2, no abort."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.support import REPO


def run_server(tmp_path, config: dict, env: dict | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "td.yaml"
    path.write_text(yaml.safe_dump({"app_type": "td", **config}))
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "wsbridge", "--app_type=td", f"--config={path}", "--port=0"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": pythonpath, **(env or {})})


def test_missing_gb18030_locale_is_one_line_with_the_fix(tmp_path) -> None:
    empty = tmp_path / "no-locales"
    empty.mkdir()  # glibc looks for locales here only: zh_CN.GB18030 is "not installed"
    config = {"backend": "ctp", "ctp": {"TdFrontAddress": "tcp://127.0.0.1:1"}}
    result = run_server(tmp_path, config, {"LOCPATH": str(empty)})
    assert result.returncode == 2  # not 134: openctp was never imported
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("wsbridge: error: ") and "zh_CN.GB18030" in line
    assert "locale-gen" in line


def test_a_missing_front_address_is_named(tmp_path) -> None:
    result = run_server(tmp_path, {"backend": "ctp", "ctp": {"BrokerID": "9999"}})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "ctp.TdFrontAddress: required" in line


def test_a_bad_key_is_named(tmp_path) -> None:
    config = {"backend": "ctp", "ctp": {"TdFrontAddress": "sim://", "sim": {"seed": "x"}}}
    result = run_server(tmp_path, config)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "ctp.sim.seed" in line
    result = run_server(tmp_path, {"backend": "ctp", "ctp": {"TdFrontAddress": "http://x"}})
    (line,) = result.stderr.strip().splitlines()
    assert "ctp.TdFrontAddress" in line and "not a front address" in line
