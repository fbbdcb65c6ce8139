"""The exchange's state on disk: SQLite in WAL mode, one transaction per engine operation.

The engine collects what an operation changed in a :class:`Changes` and writes it with
:meth:`Journal.write` before it hands out the events, so an acknowledged order, trade or
position survives ``kill -9``. ``None`` as the path keeps the database in memory.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import orjson

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    sys_id TEXT PRIMARY KEY, day TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS orders_day ON orders (day);
CREATE TABLE IF NOT EXISTS trades (
    trade_id TEXT PRIMARY KEY, day TEXT NOT NULL, account TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS trades_day ON trades (day);
CREATE TABLE IF NOT EXISTS lots (
    account TEXT NOT NULL, trade_id TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (account, trade_id));
CREATE TABLE IF NOT EXISTS stats (
    account TEXT NOT NULL, row TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (account, row));
"""


@dataclass(slots=True)
class Changes:
    """What one engine operation changed; keys identify rows, values are JSON-able."""

    meta: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, dict] = field(default_factory=dict)
    orders: dict[str, tuple[str, dict]] = field(default_factory=dict)  # sys_id -> (day, data)
    trades: dict[str, tuple[str, str, dict]] = field(default_factory=dict)  # -> (day, acct, data)
    lots: dict[tuple[str, str], dict | None] = field(default_factory=dict)  # None deletes
    stats: dict[tuple[str, str], dict | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any((self.meta, self.accounts, self.orders, self.trades, self.lots, self.stats))


class Journal:
    """Reads the saved state at start, writes each operation's changes atomically."""

    def __init__(self, path: str | None) -> None:
        if path is None:
            target = ":memory:"
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            target = path
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash (kill -9); only power loss can
            # lose the last transactions.
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,)
        )

    # -- reading ------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta"))

    def accounts(self) -> list[dict]:
        return [orjson.loads(d) for (d,) in self._db.execute("SELECT data FROM accounts")]

    def orders(self, day: str) -> list[dict]:
        rows = self._db.execute("SELECT data FROM orders WHERE day = ? ORDER BY rowid", (day,))
        return [orjson.loads(d) for (d,) in rows]

    def trades(self, day: str) -> list[tuple[str, dict]]:
        rows = self._db.execute(
            "SELECT account, data FROM trades WHERE day = ? ORDER BY rowid", (day,)
        )
        return [(account, orjson.loads(d)) for account, d in rows]

    def lots(self) -> list[tuple[str, dict]]:
        rows = self._db.execute("SELECT account, data FROM lots ORDER BY rowid")
        return [(account, orjson.loads(d)) for account, d in rows]

    def stats(self) -> list[tuple[str, str, dict]]:
        rows = self._db.execute("SELECT account, row, data FROM stats ORDER BY rowid")
        return [(account, row, orjson.loads(d)) for account, row, d in rows]

    # -- writing ------------------------------------------------------------------------

    def write(self, changes: Changes) -> None:
        """Apply ``changes`` in one transaction."""
        if not changes:
            return
        db = self._db
        dumps = orjson.dumps
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", list(changes.meta.items())
            )
            db.executemany(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?)",
                [(k, dumps(v)) for k, v in changes.accounts.items()],
            )
            # An upsert keeps the row (and its rowid, the load order) of an updated order.
            db.executemany(
                "INSERT INTO orders VALUES (?, ?, ?) ON CONFLICT (sys_id) DO UPDATE"
                " SET day = excluded.day, data = excluded.data",
                [(k, day, dumps(v)) for k, (day, v) in changes.orders.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO trades VALUES (?, ?, ?, ?)",
                [(k, day, acct, dumps(v)) for k, (day, acct, v) in changes.trades.items()],
            )
            for table, key_col, rows in (
                ("lots", "trade_id", changes.lots), ("stats", "row", changes.stats)
            ):
                db.executemany(
                    f"INSERT INTO {table} VALUES (?, ?, ?) ON CONFLICT (account, {key_col})"
                    " DO UPDATE SET data = excluded.data",
                    [(a, k, dumps(v)) for (a, k), v in rows.items() if v is not None],
                )
                db.executemany(
                    f"DELETE FROM {table} WHERE account = ? AND {key_col} = ?",
                    [(a, k) for (a, k), v in rows.items() if v is None],
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()
