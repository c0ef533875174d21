"""The poller's durable journal: everything the centre must see, in order: HARD state
transitions, operation-record lines (finding changes, reboots, traps) and changed facts.

One SQLite file under the poller's state directory (WAL, synchronous=FULL: a committed entry
survives a power cut). An entry and the device's new state are written in one transaction,
so a restart neither loses a change nor repeats one: the poller's health is restored from
`states`, and what the centre has not acknowledged is still in `entries`, with its original
time. Acknowledged entries are deleted. Plain sqlite3, not the centre's Store: the site keeps
only this, and it must work with no schema of the centre's.

Beside the entries, `rollups` keeps the hourly history gathered at the site (count, sum,
min and max per device, metric, subject and hour: what the centre's early warnings and
device pages read), merged as the history recorder flushes, shipped once an hour is closed
(`close`) and deleted when the centre took it. The file has a cap: past it the oldest
rollups are deleted, never an entry, and the loss is counted (`dropped`) for the centre.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import TypeAdapter

from monitord.health.tracker import Transition
from monitord.sites.wire import Dropped, Entry, Rollup
from monitord.store.records import MetricHour, OperationEvent

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
CREATE TABLE IF NOT EXISTS rollups (id INTEGER PRIMARY KEY, device TEXT NOT NULL,
                                    metric TEXT NOT NULL, subject TEXT NOT NULL,
                                    hour INTEGER NOT NULL, n INTEGER NOT NULL,
                                    total REAL NOT NULL, low REAL NOT NULL, high REAL NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS rollups_key ON rollups (device, metric, subject, hour);
"""
_MAX_FACT = 500  # as the centre keeps them (store/facts.py)
CAP: Final = 500 * 1000 * 1000  # bytes: the journal's default cap
_CUT_TO: Final = 0.9  # at the cap, rollups go until the journal is this far below it
_CUT_STEP: Final = 0.05  # ...the oldest this share of them at a time
# Keys in `meta`: hours before CLOSED are finished (a late sample for one is let go, since
# the centre may have it already); the rest count what the cap dropped.
_CLOSED, _DROPPED, _DROPPED_BYTES, _DROPPED_SPAN = "closed", "dropped", "dropped_bytes", "span"


@dataclass(frozen=True, slots=True)
class Cut:
    """What one pass at the cap dropped: rollups, bytes freed, their hours' span."""

    rollups: int
    bytes: int
    oldest_hour: int | None
    newest_hour: int | None


class Journal:
    def __init__(self, path: Path, cap: int = CAP) -> None:
        self.cap = cap
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

    # The hourly history (rollups) and the cap.

    def add_hours(self, rows: Sequence[MetricHour]) -> Cut | None:
        """Merge partial hours (what `HistoryRecorder.flush` hands its store) into the
        rollups; samples of a closed hour are let go. Then hold the cap: returns what it
        dropped, if anything."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            closed = self._meta_int(_CLOSED)
            self._db.executemany(
                "INSERT INTO rollups (device, metric, subject, hour, n, total, low, high)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, metric, subject, hour)"
                " DO UPDATE SET n = n + excluded.n, total = total + excluded.total,"
                " low = min(low, excluded.low), high = max(high, excluded.high)",
                [(r.device_id, r.metric, r.subject, r.hour, r.n, r.total, r.low, r.high)
                 for r in rows if r.hour >= closed],
            )  # fmt: skip
        return self.hold_cap()

    def close_hours(self, before_hour: int) -> None:
        """Hours before `before_hour` are finished: they may be shipped, and late samples
        of them are let go (the centre sets an hour as it is sent, once)."""
        with self._lock, self._db:
            if before_hour > self._meta_int(_CLOSED):
                self._set_meta(_CLOSED, str(before_hour))

    def finished(self, limit: int) -> list[tuple[int, Rollup]]:
        """The oldest closed hours, with their row ids for `shipped`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, device, metric, subject, hour, n, total, low, high FROM rollups"
                " WHERE hour < ? ORDER BY hour, id LIMIT ?", (self._meta_int(_CLOSED), limit),
            ).fetchall()  # fmt: skip
        return [(i, Rollup(device=d, metric=m, subject=s, hour=h, n=n, total=t, low=lo,
                           high=hi)) for i, d, m, s, h, n, t, lo, hi in rows]  # fmt: skip

    def shipped(self, ids: Sequence[int]) -> None:
        with self._lock, self._db:
            self._db.executemany("DELETE FROM rollups WHERE id = ?", [(i,) for i in ids])

    def rollups(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT count(*) FROM rollups").fetchone()
        return int(n)

    def used(self) -> int:
        """Bytes of the file in use (free pages are reused before it grows)."""
        with self._lock:
            return self._used()

    def _used(self) -> int:
        (pages,) = self._db.execute("PRAGMA page_count").fetchone()
        (free,) = self._db.execute("PRAGMA freelist_count").fetchone()
        (size,) = self._db.execute("PRAGMA page_size").fetchone()
        return int((pages - free) * size)

    def hold_cap(self) -> Cut | None:
        """At the cap, delete the oldest rollups (by hour) until the journal is under
        _CUT_TO of it; entries are never deleted here. Returns what went, if anything."""
        with self._lock, self._db:
            before = self._used()
            if before <= self.cap:
                return None
            self._db.execute("BEGIN IMMEDIATE")
            (total,) = self._db.execute("SELECT count(*) FROM rollups").fetchone()
            step, gone, span = max(1, int(total * _CUT_STEP)), 0, (None, None)
            while self._used() > self.cap * _CUT_TO:
                cut = self._db.execute(
                    "SELECT id, hour FROM rollups ORDER BY hour, id LIMIT ?", (step,)
                ).fetchall()
                if not cut:
                    break  # entries alone: kept, whatever the cap
                self._db.executemany("DELETE FROM rollups WHERE id = ?", [(i,) for i, _ in cut])
                gone += len(cut)
                span = (cut[0][1] if span[0] is None else span[0], cut[-1][1])
            freed = before - self._used()
            if gone:
                self._set_meta(_DROPPED, str(self._meta_int(_DROPPED) + gone))
                self._set_meta(_DROPPED_BYTES, str(self._meta_int(_DROPPED_BYTES) + freed))
                self._set_meta(_DROPPED_SPAN, json.dumps(span))
            return Cut(gone, freed, *span)

    def dropped(self) -> Dropped | None:
        """What the cap dropped since the journal began; None if nothing."""
        with self._lock:
            n = self._meta_int(_DROPPED)
            if not n:
                return None
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (_DROPPED_SPAN,))
            oldest, newest = json.loads(row.fetchone()[0])
            return Dropped(rollups=n, bytes=self._meta_int(_DROPPED_BYTES), oldest_hour=oldest,
                           newest_hour=newest)  # fmt: skip

    def _meta_int(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
