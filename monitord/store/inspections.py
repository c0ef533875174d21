"""Inspections (P1): the inspection repository (`store.inspections`).

Plain queries, for the daemon, the CLI, the API and the monthly report alike:
- `tasks(contract=, site=, due_from=, due_before=, open_only=)`: tasks, by due time. A
  task is done when `completed_at` is set; overdue when it is not and its `due_at` has
  passed (`InspectionTask.overdue(now)`). "Done in May" = completed_at in May; "due in
  May" = due_at in (May 1, June 1]; "overdue at the end of May" = due_at <= June 1 and
  completed_at null or after June 1 (times are UTC instants; months are the site's).
- `task(id)`: one task and all its results, oldest first (the latest result of an item is
  the one that counts).
- `results(site=, since=, until=)`: results recorded in [since, until) with their tasks,
  in one query (service logs).

The database refuses a second task for one (contract, site, kind, period): creating tasks
is idempotent, across restarts and between daemons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from monitord.store.core import Repository, narrowed, require_aware
from monitord.store.records import InspectionResult, InspectionTask
from monitord.store.schema import Base, InspectionResultRow, InspectionTaskRow

_TASKS: Table = Base.metadata.tables[InspectionTaskRow.__tablename__]


class Inspections(Repository):
    def add_tasks(self, tasks: Sequence[InspectionTask]) -> list[InspectionTask]:
        """Insert the tasks whose period has none yet; returns those inserted.

        `id` and `completed_at` of the given tasks are ignored. One statement for all.
        """
        if not tasks:
            return []
        for t in tasks:
            require_aware(t.due_at)
        table = _TASKS
        rows = [
            {"contract": t.contract, "site_id": t.site_id, "kind": t.kind, "plan": t.plan,
             "period": t.period, "period_start": t.period_start, "due_at": t.due_at,
             "items": [dict(i) for i in t.items], "created_at": t.created_at,
             "completed_at": None}
            for t in tasks
        ]  # fmt: skip
        key = (table.c.contract, table.c.site_id, table.c.kind, table.c.period)
        with self._session(f"create {len(tasks)} inspection task(s)", write=True) as s:
            dialect = s.get_bind().dialect.name
            insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
            stmt = insert_(table).on_conflict_do_nothing().returning(table.c.id, *key)
            created = {tuple(r[1:]): r[0] for r in s.execute(stmt, rows)}
        by_key = {(t.contract, t.site_id, t.kind, t.period): t for t in tasks}
        return [_replace_id(by_key[k], i) for k, i in sorted(created.items(), key=lambda x: x[1])]

    def last_periods(self) -> dict[tuple[str, str, str], dt.date]:
        """(contract, site, kind) -> the start of its latest task's period."""
        t = InspectionTaskRow
        query = select(t.contract, t.site_id, t.kind, func.max(t.period_start)).group_by(
            t.contract, t.site_id, t.kind
        )
        with self._session("read the latest inspection periods") as s:
            return {(c, site, k): start for c, site, k, start in s.execute(query)}

    def tasks(
        self,
        contract: str | None = None,
        site: str | None = None,
        due_from: dt.datetime | None = None,
        due_before: dt.datetime | None = None,
        open_only: bool = False,
        limit: int = 10_000,
    ) -> list[InspectionTask]:
        """Tasks by due time (then id); `due_from` <= due_at < `due_before`."""
        t = InspectionTaskRow
        query = narrowed(
            select(t).order_by(t.due_at, t.id).limit(limit),
            equal=[(t.contract, contract), (t.site_id, site)],
            within=(t.due_at, due_from, due_before),
        )
        if open_only:
            query = query.where(t.completed_at.is_(None))
        with self._session("read inspection tasks") as s:
            return [_task(r) for r in s.scalars(query)]

    def task(self, task_id: int) -> tuple[InspectionTask, list[InspectionResult]] | None:
        with self._session(f"read inspection task {task_id}") as s:
            row = s.get(InspectionTaskRow, task_id)
            if row is None:
                return None
            return _task(row), _results(s, task_id)

    def results(
        self,
        site: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[tuple[InspectionTask, InspectionResult]]:
        """Results recorded in [since, until), with their tasks, oldest first (one query)."""
        r, t = InspectionResultRow, InspectionTaskRow
        query = narrowed(
            select(r, t).join(t, r.task_id == t.id).order_by(r.at, r.id),
            equal=[(t.site_id, site)],
            within=(r.at, since, until),
        )
        with self._session("read inspection results") as s:
            return [(_task(task), _result(row)) for row, task in s.execute(query)]

    def add_result(self, result: InspectionResult) -> tuple[InspectionTask, list[InspectionResult]]:
        """Append a result; the task is completed by the result that leaves no item open.

        KeyError if there is no such task; ValueError if the item is not on its checklist.
        """
        require_aware(result.at)
        if result.result not in ("pass", "fail"):
            raise ValueError(f"result must be 'pass' or 'fail', not {result.result!r}")
        with self._session(f"record a result of inspection {result.task_id}", write=True) as s:
            row = s.get(InspectionTaskRow, result.task_id, with_for_update=True)
            if row is None:
                raise KeyError(result.task_id)
            ids = [i["id"] for i in row.items]
            if result.item not in ids:
                raise ValueError(
                    f"inspection {row.id} has no item {result.item!r} (items: {', '.join(ids)})"
                )
            s.add(
                InspectionResultRow(
                    task_id=row.id,
                    item=result.item,
                    device_id=result.device_id,
                    result=result.result,
                    note=result.note,
                    actor=result.by,
                    at=result.at,
                    ticket_id=result.ticket_id,
                )
            )
            s.flush()
            results = _results(s, row.id)
            if row.completed_at is None and set(ids) <= {r.item for r in results}:
                row.completed_at = result.at
            return _task(row), results


def _replace_id(t: InspectionTask, new_id: int) -> InspectionTask:
    return InspectionTask(
        new_id, t.contract, t.site_id, t.kind, t.plan, t.period, t.period_start, t.due_at,
        tuple(t.items), t.created_at, None,
    )  # fmt: skip


def _task(r: InspectionTaskRow) -> InspectionTask:
    return InspectionTask(
        r.id, r.contract, r.site_id, r.kind, r.plan, r.period, r.period_start, r.due_at,
        tuple(dict(i) for i in r.items), r.created_at, r.completed_at,
    )  # fmt: skip


def _results(s: Any, task_id: int) -> list[InspectionResult]:
    r = InspectionResultRow
    query = select(r).where(r.task_id == task_id).order_by(r.at, r.id)
    return [_result(x) for x in s.scalars(query)]


def _result(x: InspectionResultRow) -> InspectionResult:
    return InspectionResult(
        x.task_id, x.item, x.result, x.actor, x.at, x.note, x.device_id, x.ticket_id, x.id
    )
