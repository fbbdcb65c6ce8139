"""Running sim-tws for tests: ``python -m wsbridge sim-tws`` on a free loopback port.

    with SimTws(tmp_path) as tws:
        await ib.connectAsync("127.0.0.1", tws.port, clientId=1)

``restart()`` starts it again on the same port (and journal), as after TWS's daily restart.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

from tests.support import ToolProcess

ACCOUNT = "DU7654321"


class SimTws(ToolProcess):
    """One sim-tws process; its stderr goes to ``sim-tws.log`` in ``workdir``."""

    ready_pattern = re.compile(r"wsbridge sim-tws ready: (\S+):(\d+)")

    def __init__(self, workdir: Path, journal: bool = True, tick_interval_ms: int = 200,
                 seed: int = 7) -> None:
        super().__init__(workdir, "sim-tws")
        self.journal = str(self.workdir / "tws.sqlite") if journal else None
        self.args = ["--account", ACCOUNT, "--seed", str(seed),
                     "--tick-interval-ms", str(tick_interval_ms)]

    def argv(self, port: int) -> list[str]:
        return ["sim-tws", "--port", str(port), *self.args,
                *(["--journal", self.journal] if self.journal else [])]

    def toggle_link(self) -> None:
        """Drop, or restore, TWS's link to IB (SIGUSR1): clients see 1100, then 1101."""
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR1)
