"""The poller journal's rollups and its cap (sites/journal.py), on a real SQLite file: the
hourly history merges as it is flushed, closed hours are shipped once, and at the cap the
oldest rollups go first, never an entry, counted for the centre."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.sites.journal import Journal
from monitord.store.records import MetricHour

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
H0 = int(T0.timestamp() // 3600)


def hour(h: int, device: str = "cam", value: float = 1.0, subject: str = "") -> MetricHour:
    return MetricHour(device, "icmp_rtt_ms", subject, h, 1, value, value, value)


def test_hours_merge_close_and_ship_once(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.db")
    j.add_hours([hour(H0, value=2.0), hour(H0 + 1)])
    j.add_hours([hour(H0, value=4.0)])  # the next flush of the same hour merges
    assert j.finished(10) == []  # nothing closed yet
    j.close_hours(H0 + 1)
    [(rid, r)] = j.finished(10)
    assert (r.hour, r.n, r.total, r.low, r.high) == (H0, 2, 6.0, 2.0, 4.0)
    j.add_hours([hour(H0, value=9.0)])  # late for a closed hour: let go
    assert j.finished(10)[0][1].n == 2
    j.shipped([rid])
    assert j.finished(10) == [] and j.rollups() == 1  # the open hour stays
    j.close_hours(H0)  # never backwards
    j.close_hours(H0 + 2)
    assert [r.hour for _, r in j.finished(10)] == [H0 + 1]
    j.close()


def test_at_the_cap_the_oldest_rollups_go_never_an_entry(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.db", cap=400_000)
    for n in range(300):
        j.append(Transition("cam", T0, State.UP, State.DOWN, f"down {n} " + "x" * 200, {}))
    hours = [hour(H0 + h, f"d{d}", subject=f"port{p}") for h in range(48) for d in range(10)
             for p in range(8)]  # fmt: skip
    cuts = [c for c in (j.add_hours(hours[i : i + 500]) for i in range(0, len(hours), 500)) if c]
    assert cuts, "the cap was never reached"
    assert all(c.rollups > 0 and c.bytes > 0 for c in cuts)
    assert j.backlog() == 300 and len(j.pending(500)) == 300  # every entry kept
    assert j.used() <= j.cap
    dropped = j.dropped()
    assert dropped is not None and dropped.rollups == sum(c.rollups for c in cuts)
    assert dropped.bytes == sum(c.bytes for c in cuts)
    j.close_hours(H0 + 48)
    left = [r.hour for _, r in j.finished(100_000)]
    assert len(left) + dropped.rollups == len(hours)
    assert dropped.newest_hour is not None and min(left) >= dropped.newest_hour  # oldest first
    j.close()
    again = Journal(tmp_path / "journal.db", cap=400_000)  # the count survives a restart
    assert again.dropped() == dropped
    again.close()


def test_entries_alone_over_the_cap_are_all_kept(tmp_path: Path) -> None:
    j = Journal(tmp_path / "journal.db", cap=20_000)
    for n in range(200):
        j.append(Transition("cam", T0, State.UP, State.DOWN, "x" * 200, {"n": n}))
    cut = j.add_hours([])
    assert cut is not None and cut.rollups == 0
    assert j.backlog() == 200 and j.dropped() is None
    j.close()
