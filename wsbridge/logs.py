"""Logging setup: one line per event, with the connection id where there is one."""

from __future__ import annotations

import logging
import sys


class _ConnDefault(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "conn"):
            record.conn = "-"
        return True


def setup(level: str = "info", app: str = "") -> None:
    """Log to stderr as ``time level app logger conn=<id> message``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ConnDefault())
    tag = f" {app}" if app else ""
    handler.setFormatter(logging.Formatter(
        f"%(asctime)s %(levelname)s{tag} %(name)s conn=%(conn)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("websockets").setLevel(logging.WARNING)
