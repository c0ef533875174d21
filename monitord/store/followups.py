"""Follow-up visits and their surveys (P4): the repository `store.followups`.

`visits(contract=, site=, since=, until=)`: visits with their surveys, by time; [since,
until). Which visits were owed comes from the site's acceptance date
(`monitord.prevention.followups.windows`), not from the store.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from monitord.store.core import Repository, narrowed, require_aware
from monitord.store.records import FollowUpVisit
from monitord.store.schema import FollowUpVisitRow


class FollowUps(Repository):
    def add(self, visit: FollowUpVisit) -> FollowUpVisit:
        require_aware(visit.visited_at)
        for name in ("attitude", "responsibility", "effect"):
            value = getattr(visit, name)
            if value is not None and not 1 <= value <= 5:
                raise ValueError(f"{name} must be 1 to 5, not {value}")
        if visit.score is not None and not 0 <= visit.score <= 100:
            raise ValueError(f"score must be 0 to 100, not {visit.score}")
        row = FollowUpVisitRow(
            contract=visit.contract, site_id=visit.site_id, visited_at=visit.visited_at,
            actor=visit.by, contact=visit.contact, attitude=visit.attitude,
            responsibility=visit.responsibility, effect=visit.effect, score=visit.score,
            problems=visit.problems, suggestions=visit.suggestions,
            quality_problem=visit.quality_problem, ticket_id=visit.ticket_id,
            extra=dict(visit.extra),
        )  # fmt: skip
        with self._session(f"record a follow-up visit at {visit.site_id}", write=True) as s:
            s.add(row)
            s.flush()
            return _visit(row)

    def visits(
        self,
        contract: str | None = None,
        site: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> list[FollowUpVisit]:
        v = FollowUpVisitRow
        query = narrowed(
            select(v).order_by(v.visited_at, v.id),
            equal=[(v.contract, contract), (v.site_id, site)],
            within=(v.visited_at, since, until),
        )
        with self._session("read follow-up visits") as s:
            return [_visit(r) for r in s.scalars(query)]


def _visit(r: FollowUpVisitRow) -> FollowUpVisit:
    return FollowUpVisit(
        contract=r.contract, site_id=r.site_id, visited_at=r.visited_at, by=r.actor,
        contact=r.contact, attitude=r.attitude, responsibility=r.responsibility,
        effect=r.effect, score=r.score, problems=r.problems, suggestions=r.suggestions,
        quality_problem=bool(r.quality_problem), ticket_id=r.ticket_id, id=r.id,
        extra=dict(r.extra or {}),
    )  # fmt: skip
