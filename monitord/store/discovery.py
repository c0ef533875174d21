"""Discovery runs and their change sets (DiscoveryRunRow): the repository `store.discovery`.

A run's row is written as it starts, as it ends and when it is applied, so the console's
review (and its apply) outlives a restart of the daemon: the proposal is what a person
reviewed, and applying it must not need the network probed again.
"""

from __future__ import annotations

from sqlalchemy import select

from monitord.store.core import Repository, require_aware
from monitord.store.records import DiscoveryRun
from monitord.store.schema import DiscoveryRunRow


class DiscoveryRuns(Repository):
    def save(self, run: DiscoveryRun) -> None:
        """Write the run as it is now (a new one, or the newer state of one)."""
        require_aware(run.started)
        if run.finished is not None:
            require_aware(run.finished)
        with self._session(f"record discovery run {run.id}", write=True) as s:
            row = s.get(DiscoveryRunRow, run.id)
            if row is None:
                row = DiscoveryRunRow(id=run.id)
                s.add(row)
            row.site_id, row.by_user, row.runs_at = run.site, run.by, run.where
            row.state, row.started, row.finished = run.state, run.started, run.finished
            row.reason, row.error = run.reason[:500], run.error[:500]
            row.proposal, row.applied, row.reloaded = run.proposal, run.applied, run.reloaded

    def latest(self, site: str) -> DiscoveryRun | None:
        """The site's newest run."""
        with self._session(f"read the discovery runs of {site}") as s:
            query = (
                select(DiscoveryRunRow)
                .where(DiscoveryRunRow.site_id == site)
                .order_by(DiscoveryRunRow.started.desc(), DiscoveryRunRow.id.desc())
                .limit(1)
            )
            row = s.scalars(query).first()
            return None if row is None else _record(row)

    def get(self, run_id: str) -> DiscoveryRun | None:
        with self._session(f"read discovery run {run_id}") as s:
            row = s.get(DiscoveryRunRow, run_id)
            return None if row is None else _record(row)


def _record(r: DiscoveryRunRow) -> DiscoveryRun:
    return DiscoveryRun(r.id, r.site_id, r.by_user, r.runs_at, r.state, r.started, r.finished,
                        r.reason, r.error, r.proposal, r.applied, r.reloaded)  # fmt: skip
