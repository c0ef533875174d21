"""The poller's durable journal: everything the centre must see, in order: HARD state
transitions, operation-record lines (finding changes, reboots, traps) and changed facts.

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
from collections.abc import Mapping
from pathlib import Path

from pydantic import TypeAdapter

from monitord.health.tracker import Transition
from monitord.sites.wire import Entry
from monitord.store.records import OperationEvent

_ENTRY: TypeAdapter[Entry] = TypeAdapter(Entry)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS states (device TEXT PRIMARY KEY, state TEXT NOT NULL,
                                   since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS latest (device TEXT NOT NULL, kind TEXT NOT NULL, at TEXT NOT NULL,
                                   PRIMARY KEY (device, kind));
CREATE TABLE IF NOT EXISTS facts (device TEXT NOT NULL, source TEXT NOT NULL,
                                  name TEXT NOT NULL, value TEXT NOT NULL,
                                  PRIMARY KEY (device, source, name));
"""
_MAX_FACT = 500  # as the centre keeps them (store/facts.py)


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

    def append_event(self, event: OperationEvent) -> int:
        """Journal one line of a device's operation record (a finding change, a reboot, a
        trap), and remember when the device last had one of its kind (`latest_events`)."""
        body = {
            "kind": "event",
            "device": event.device_id,
            "at": event.at.isoformat(),
            "event": event.kind,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "reason": event.reason,
            "observation": event.observation,
        }
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "INSERT INTO entries (body) VALUES (?)", (json.dumps(body, default=str),)
            )
            self._db.execute(
                "INSERT INTO latest VALUES (?, ?, ?) ON CONFLICT (device, kind) DO UPDATE"
                " SET at = excluded.at",
                (event.device_id, event.kind, event.at.isoformat()),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    def latest_events(self, kind: str) -> dict[str, dt.datetime]:
        with self._lock:
            rows = self._db.execute("SELECT device, at FROM latest WHERE kind = ?", (kind,))
            return {d: dt.datetime.fromisoformat(at) for d, at in rows.fetchall()}

    def learn(
        self, device: str, source: str, facts: Mapping[str, str], at: dt.datetime
    ) -> dict[str, tuple[str, str]]:
        """Keep what a device says about itself; journal the facts only when they differ
        from what was kept (the centre records the change), so a poll every minute does
        not fill the journal. Returns the changed ones as name -> (old, new)."""
        clean = {n: v.strip()[:_MAX_FACT] for n, v in facts.items() if v.strip()}
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT name, value FROM facts WHERE device = ? AND source = ?", (device, source)
            ).fetchall()
            known = dict(rows)
            changed = {n: (known[n], v) for n, v in clean.items() if n in known and known[n] != v}
            if all(known.get(n) == v for n, v in clean.items()):
                return {}
            body = {"kind": "facts", "device": device, "at": at.isoformat(), "source": source,
                    "facts": clean}  # fmt: skip
            self._db.execute("INSERT INTO entries (body) VALUES (?)", (json.dumps(body),))
            self._db.executemany(
                "INSERT INTO facts VALUES (?, ?, ?, ?) ON CONFLICT (device, source, name)"
                " DO UPDATE SET value = excluded.value",
                [(device, source, n, v) for n, v in clean.items()],
            )
            return changed

    def pending(self, limit: int) -> list[Entry]:
        """The oldest entries the centre has not acknowledged, in sequence order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM entries ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [_ENTRY.validate_python({"seq": seq, **json.loads(body)}) for seq, body in rows]

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
