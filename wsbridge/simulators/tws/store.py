"""What sim-tws keeps on disk beside the exchange's journal: the IB side of orders.

The exchange journals orders, trades and positions in CTP terms; this SQLite file adds
what only TWS knows (client id, order id, permId, IB order terms, execution ids and
commissions) so a restarted simulator reports the same orders under the same ids.
``None`` as the path keeps everything in memory.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (perm_id INTEGER PRIMARY KEY, day TEXT NOT NULL,
                                   data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS executions (exec_id TEXT PRIMARY KEY, day TEXT NOT NULL,
                                       perm_id INTEGER NOT NULL, data BLOB NOT NULL);
"""


class Store:
    """Key/value meta, orders by permId and executions by execId, each per trading day."""

    def __init__(self, path: str | None) -> None:
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path or ":memory:", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def meta(self, key: str, default: str = "") -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def save_order(self, perm_id: int, day: str, data: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?, ?)",
                         (perm_id, day, orjson.dumps(data)))

    def orders(self, day: str) -> list[dict]:
        rows = self._db.execute("SELECT data FROM orders WHERE day = ? ORDER BY perm_id",
                                (day,))
        return [orjson.loads(data) for (data,) in rows]

    def save_execution(self, exec_id: str, day: str, perm_id: int, data: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO executions VALUES (?, ?, ?, ?)",
                         (exec_id, day, perm_id, orjson.dumps(data)))

    def executions(self, day: str) -> list[dict]:
        rows = self._db.execute(
            "SELECT data FROM executions WHERE day = ? ORDER BY rowid", (day,))
        return [orjson.loads(data) for (data,) in rows]

    def close(self) -> None:
        self._db.close()
