"""The poller's durable journal: every HARD transition the centre must see, in order.

One SQLite file under the poller's state directory (WAL, synchronous=FULL: a committed entry
survives a power cut). An entry and the device's new state are written in one transaction,
so a restart neither loses a change nor repeats one: the poller's health is restored from
`states`, and what the centre has not acknowledged is still in `entries`, with its original
time. Acknowledged entries are deleted. Plain sqlite3, not the centre's Store: the site keeps
only this, and it must work with no schema of the centre's.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

from monitord.health.tracker import Transition
from monitord.sites.wire import Entry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS states (device TEXT PRIMARY KEY, state TEXT NOT NULL,
                                   since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()  # one connection, used from worker threads
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        path.chmod(0o600)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, t: Transition) -> int:
        """Journal one transition; returns its sequence number once it is on disk."""
        body = {
            "device": t.device_id,
            "at": t.at.isoformat(),
            "from_state": t.from_state.value,
            "to_state": t.to_state.value,
            "reason": t.reason,
            "observation": t.observation,
        }
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "INSERT INTO entries (body) VALUES (?)", (json.dumps(body, default=str),)
            )
            self._db.execute(
                "INSERT INTO states VALUES (?, ?, ?) ON CONFLICT (device) DO UPDATE"
                " SET state = excluded.state, since = excluded.since",
                (t.device_id, t.to_state.value, t.at.isoformat()),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def pending(self, limit: int) -> list[Entry]:
        """The oldest entries the centre has not acknowledged, in sequence order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM entries ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [Entry.model_validate({"seq": seq, **json.loads(body)}) for seq, body in rows]

    def acknowledge(self, upto: int) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM entries WHERE seq <= ?", (upto,))

    def backlog(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM entries").fetchone()
        return int(n)

    def states(self) -> dict[str, tuple[str, dt.datetime]]:
        with self._lock:
            rows = self._db.execute("SELECT device, state, since FROM states").fetchall()
        return {d: (s, dt.datetime.fromisoformat(since)) for d, s, since in rows}
