"""Maintenance windows started by hand (CLI, API): the repository `store.windows`.

Ending a window early moves its end to that moment and stamps `ended_early_at`, so every
reader asks one question: does [starts_at, ends_at) cover this instant?
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from monitord.store.core import Repository, require_aware
from monitord.store.records import WindowRecord
from monitord.store.schema import MaintenanceWindowRow


class Windows(Repository):
    def add(self, w: WindowRecord) -> WindowRecord:
        for at in (w.starts_at, w.ends_at, w.created_at):
            require_aware(at)
        if w.ends_at <= w.starts_at:
            raise ValueError("a maintenance window must end after it starts")
        row = MaintenanceWindowRow(
            site_id=w.site_id,
            device_id=w.device_id,
            kind=w.kind,
            starts_at=w.starts_at,
            ends_at=w.ends_at,
            reason=w.reason,
            created_by=w.created_by,
            created_at=w.created_at,
            ended_early_at=None,
        )
        with self._session("start a maintenance window", write=True) as s:
            s.add(row)
            s.flush()
            return _record(row)

    def end(self, window_id: int, at: dt.datetime) -> WindowRecord | None:
        """End the window at `at` if it is still running or ahead; None if there is no such id."""
        require_aware(at)
        with self._session(f"end maintenance window {window_id}", write=True) as s:
            row = s.get(MaintenanceWindowRow, window_id)
            if row is None:
                return None
            if row.ends_at > at:
                row.ends_at = max(at, row.starts_at)
                row.ended_early_at = at
            return _record(row)

    def get(self, window_id: int) -> WindowRecord | None:
        with self._session(f"read maintenance window {window_id}") as s:
            row = s.get(MaintenanceWindowRow, window_id)
            return None if row is None else _record(row)

    def ending_after(self, at: dt.datetime) -> list[WindowRecord]:
        """Windows running at `at` or ahead of it, soonest first."""
        return self.between(at, None)

    def between(self, start: dt.datetime, end: dt.datetime | None) -> list[WindowRecord]:
        """Windows overlapping [start, end) (end None: no end), by start."""
        require_aware(start)
        t = MaintenanceWindowRow
        query = select(t).where(t.ends_at > start).order_by(t.starts_at, t.id)
        if end is not None:
            require_aware(end)
            query = query.where(t.starts_at < end)
        with self._session("read maintenance windows") as s:
            return [_record(r) for r in s.scalars(query)]


def _record(r: MaintenanceWindowRow) -> WindowRecord:
    return WindowRecord(
        r.id,
        r.site_id,
        r.device_id,
        r.kind,
        r.starts_at,
        r.ends_at,
        r.reason,
        r.created_by,
        r.created_at,
        r.ended_early_at,
    )
