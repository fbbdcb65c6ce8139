"""Config files: defaults, overrides, and one-line errors that name the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO
from wsbridge import config
from wsbridge.config import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_defaults() -> None:
    cfg = config.load(None, "md")
    assert (cfg.backend, cfg.host, cfg.resolved_port()) == ("sim", "127.0.0.1", 8080)
    assert config.load(None, "td").resolved_port() == 8081


def test_shipped_configs_load() -> None:
    md, td = config.load(REPO / "config_md.yaml"), config.load(REPO / "config_td.yaml")
    assert (md.app_type, td.app_type) == ("md", "td")
    assert md.backend_settings["seed"] == td.backend_settings["seed"]


def test_values_and_backend_section(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, "port: 9000\nlimits:\n  requests_per_second: 5\n"
                                      "sim:\n  seed: 3\n"), "td")
    assert cfg.port == 9000 and cfg.limits.requests_per_second == 5.0
    assert cfg.backend_settings == {"seed": 3}


@pytest.mark.parametrize(("text", "needle"), [
    ("prot: 1\n", "prot: unknown key"),
    ("port: eighty\n", "port: expected an integer, got text"),
    ("limits:\n  max_frame_bytes: [1]\n", "limits.max_frame_bytes: expected an integer"),
    ("limits:\n  nope: 1\n", "limits.nope: unknown key"),
    ("tokens: abc\n", "tokens: expected a list"),
    ("backend: nowhere\n", "backend: must be one of"),
    ("backend: sim\nctp:\n  BrokerID: 1\n", "ctp: section given but backend is 'sim'"),
    ("port: [\n", "at line"),
    ("- a\n- b\n", "expected a mapping at the top level"),
])
def test_errors_name_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, text))
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        config.load("/nonexistent/wsbridge.yaml")


def test_cli_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "limits:\n  requests_per_second: fast\n")
    result = subprocess.run(
        [sys.executable, "-m", "wsbridge", "--app_type=td", f"--config={path}"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "limits.requests_per_second: expected a number" in lines[0]
    assert "Traceback" not in result.stderr
