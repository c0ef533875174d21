"""The rolled-up metric history (hourly n/sum/min/max per device metric): `store.metric_history`.

Bounded by construction: one row per device, metric, subject and hour, merged on write and
pruned by age. A trend needs only the least-squares sums of a series, which the database
computes in one grouped query, so an hourly pass over thousands of devices reads one row
per series instead of every hour of every series.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from monitord.store.core import Repository
from monitord.store.records import MetricHour, SeriesSums
from monitord.store.schema import Base, MetricHourRow

_KEY = ("device_id", "metric", "subject", "hour")
_CHUNK = 2000
_TABLE: Table = Base.metadata.tables[MetricHourRow.__tablename__]


class MetricHistory(Repository):
    def add(self, rows: Sequence[MetricHour]) -> None:
        """Merge partial hours into the stored ones (counts and sums add, extremes widen).

        In transactions of `_CHUNK` rows, so a state change waiting to be written (SQLite
        has one writer) waits for one chunk, not for the whole fleet's hour.
        """
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            with self._session(f"record {len(chunk)} metric hours", write=True) as s:
                # Core, not the ORM's bulk path: one plain executemany.
                s.connection().execute(
                    _merge(s.get_bind().dialect.name), [_values(r) for r in chunk]
                )

    def put(self, rows: Sequence[MetricHour]) -> None:
        """Set finished hours as they are given (a site poller's rollups, sites/centre.py):
        the same hour sent again after a lost answer replaces itself, so it is idempotent
        where `add` would count it twice."""
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            with self._session(f"set {len(chunk)} metric hours", write=True) as s:
                s.connection().execute(
                    _replace(s.get_bind().dialect.name), [_values(r) for r in chunk]
                )

    def prune(self, before_hour: int) -> int:
        stmt = delete(MetricHourRow).where(MetricHourRow.hour < before_hour)
        with self._session("prune the metric history", write=True) as s:
            return int(getattr(s.execute(stmt), "rowcount", 0) or 0)

    def hours(self, device_id: str, metric: str, since_hour: int) -> list[MetricHour]:
        """One device's metric from `since_hour` on, by subject and hour."""
        t = MetricHourRow
        query = (
            select(t)
            .where(t.device_id == device_id, t.metric == metric, t.hour >= since_hour)
            .order_by(t.subject, t.hour)
        )
        with self._session(f"read the {metric} history of {device_id}") as s:
            return [_record(r) for r in s.scalars(query)]

    def series_sums(self, metric: str, since_hour: int) -> list[SeriesSums]:
        """Per device and subject, the regression sums of the hourly means since `since_hour`."""
        t = MetricHourRow
        x = t.hour - literal(since_hour)
        y = t.total / t.n
        query = (
            select(
                t.device_id,
                t.subject,
                func.count(),
                func.sum(x),
                func.sum(y),
                func.sum(x * y),
                func.sum(x * x),
                func.sum(y * y),
                func.min(t.hour),
                func.max(t.hour),
            )
            .where(t.metric == metric, t.hour >= since_hour)
            .group_by(t.device_id, t.subject)
        )
        with self._session(f"read the {metric} trends") as s:
            return [
                SeriesSums(
                    d,
                    subj,
                    since_hour,
                    int(n),
                    float(sx),
                    float(sy),
                    float(sxy),
                    float(sxx),
                    float(syy),
                    int(first),
                    int(last),
                )
                for d, subj, n, sx, sy, sxy, sxx, syy, first, last in s.execute(query)
            ]

    def totals(self, metric: str, since_hour: int) -> dict[tuple[str, str], float]:
        """Per device and subject, the sum of all samples since `since_hour` (event counts)."""
        t = MetricHourRow
        query = (
            select(t.device_id, t.subject, func.sum(t.total))
            .where(t.metric == metric, t.hour >= since_hour)
            .group_by(t.device_id, t.subject)
        )
        with self._session(f"read the {metric} totals") as s:
            return {(d, subj): float(total) for d, subj, total in s.execute(query)}


def _merge(dialect: str) -> Any:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    t = _TABLE.c
    stmt = insert_(_TABLE)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={
            "n": t.n + new.n,
            "total": t.total + new.total,
            "low": case((new.low < t.low, new.low), else_=t.low),
            "high": case((new.high > t.high, new.high), else_=t.high),
        },
    )


def _replace(dialect: str) -> Any:
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_(_TABLE)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={"n": new.n, "total": new.total, "low": new.low, "high": new.high},
    )


def _values(r: MetricHour) -> dict[str, Any]:
    return {
        "device_id": r.device_id, "metric": r.metric, "subject": r.subject, "hour": r.hour,
        "n": r.n, "total": r.total, "low": r.low, "high": r.high,
    }  # fmt: skip


def _record(r: MetricHourRow) -> MetricHour:
    return MetricHour(r.device_id, r.metric, r.subject, r.hour, r.n, r.total, r.low, r.high)
