"""Store methods for site pollers: enrolment codes, credentials, and applying their journals.

Codes and credentials are random (80 and 256 bits), so a plain SHA-256 is enough to keep them
from being read off a copy of the database; a slow password hash would only slow each request.
A poller's batch of state changes and its acknowledged sequence are written in one
transaction, so a SIGKILL applies a batch wholly or not at all, and a replay applies nothing
twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from monitord.store.core import Repository, require_aware
from monitord.store.facts import learn_in
from monitord.store.records import OperationEvent, SavedState
from monitord.store.schema import PollerCodeRow, PollerRow
from monitord.store.states import write_changes

Learnt = tuple[str, str, Mapping[str, str], dt.datetime]  # device, source, facts, at


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PollerRecord:
    id: str
    sites: tuple[str, ...]
    enrolled_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_seen: dt.datetime | None
    acked_seq: int
    version: str | None
    silent_since: dt.datetime | None
    # The credential's hash: keys the configuration's revision over its secrets, so a
    # revision seen anywhere tells nothing about them.
    key: str | None = field(default=None, repr=False)
    clock_offset: float | None = None  # seconds, centre minus poller
    backlog: int | None = None  # journal entries it has not had acknowledged

    @property
    def active(self) -> bool:
        return self.enrolled_at is not None and self.revoked_at is None

    @property
    def replaying(self) -> bool:
        """Heard again after a silence, the gap's replay not yet concluded (sites/gap.py).

        Kept in the row itself (a push after `silent_since`), so a centre restarted in the
        middle of a replay still knows the entries it applies came from the gap."""
        since, seen = self.silent_since, self.last_seen
        return since is not None and seen is not None and seen > since

    @property
    def silent(self) -> bool:
        """Silent now: no heartbeat since `silent_since`."""
        return self.silent_since is not None and not self.replaying


class EnrolRefused(Exception):
    """The code is unknown, used or expired (one message for all: a guesser learns nothing)."""


class Pollers(Repository):
    """`store.pollers`: site pollers, their codes, credentials and journals."""

    def add_code(
        self, poller_id: str, sites: Sequence[str], code: str, now: dt.datetime, valid: dt.timedelta
    ) -> None:
        """Create (or re-site) a poller and give it a one-time code, kept as its hash."""
        require_aware(now)
        with self._session(f"add an enrolment code for poller {poller_id}", write=True) as s:
            row = s.get(PollerRow, poller_id)
            if row is None:
                row = PollerRow(id=poller_id, sites=list(sites), created_at=now, acked_seq=0)
                s.add(row)
            else:
                row.sites = list(sites)
            s.flush()
            s.add(
                PollerCodeRow(
                    code_hash=digest(code), poller_id=poller_id, created_at=now,
                    expires_at=now + valid, used_at=None,
                )
            )  # fmt: skip

    def enrol(self, code: str, token: str, now: dt.datetime) -> PollerRecord:
        """Spend a code: the poller's credential becomes `token` (hashed); its journal
        starts again at sequence 1. Raises EnrolRefused."""
        require_aware(now)
        with self._session("enrol a poller", write=True) as s:
            found = s.get(PollerCodeRow, digest(code))
            if found is None or found.used_at is not None or found.expires_at <= now:
                raise EnrolRefused("enrolment code unknown, already used or expired")
            found.used_at = now
            row = s.get(PollerRow, found.poller_id)
            assert row is not None  # a foreign key
            row.token_hash, row.enrolled_at, row.revoked_at = digest(token), now, None
            row.acked_seq, row.last_seen, row.silent_since = 0, None, None
            s.flush()
            return _record(row)

    def by_token(self, token: str) -> PollerRecord | None:
        """The enrolled, unrevoked poller holding this credential."""
        query = select(PollerRow).where(PollerRow.token_hash == digest(token))
        with self._session("look up a poller credential") as s:
            row = s.scalars(query).first()
            return None if row is None or row.revoked_at is not None else _record(row)

    def get(self, poller_id: str) -> PollerRecord | None:
        with self._session(f"read poller {poller_id}") as s:
            row = s.get(PollerRow, poller_id)
            return None if row is None else _record(row)

    def all(self) -> list[PollerRecord]:
        with self._session("list pollers") as s:
            return [_record(r) for r in s.scalars(select(PollerRow).order_by(PollerRow.id))]

    def revoke(self, poller_id: str, now: dt.datetime) -> bool:
        with self._session(f"revoke poller {poller_id}", write=True) as s:
            row = s.get(PollerRow, poller_id)
            if row is None:
                return False
            row.revoked_at, row.token_hash = now, None
            return True

    def seen(
        self,
        poller_id: str,
        now: dt.datetime,
        version: str | None,
        clock_offset: float | None = None,
        backlog: int | None = None,
    ) -> None:
        with self._session(f"note a heartbeat of poller {poller_id}", write=True) as s:
            row = s.get(PollerRow, poller_id)
            if row is not None:
                # `silent_since` stays until the gap is concluded (`conclude`).
                row.last_seen, row.version = now, version
                if clock_offset is not None:
                    row.clock_offset = clock_offset
                if backlog is not None:
                    row.backlog = backlog

    def mark_silent(
        self, poller_id: str, last_seen: dt.datetime | None, since: dt.datetime
    ) -> bool:
        """Mark it silent unless a heartbeat came since `last_seen` was read (or it already
        is); True if marked now."""
        with self._session(f"mark poller {poller_id} silent", write=True) as s:
            row = s.get(PollerRow, poller_id, with_for_update=True)
            if row is None or row.silent_since is not None or row.last_seen != last_seen:
                return False
            row.silent_since = since
            return True

    def conclude(self, poller_id: str, since: dt.datetime) -> bool:
        """The gap that began at `since` is replayed and settled; True if it was open."""
        with self._session(f"conclude the gap of poller {poller_id}", write=True) as s:
            row = s.get(PollerRow, poller_id, with_for_update=True)
            if row is None or row.silent_since != since:
                return False
            row.silent_since = None
            return True

    def apply_batch(
        self,
        poller_id: str,
        after: int,
        upto: int,
        changes: Sequence[tuple[OperationEvent, SavedState | None]],
        facts: Sequence[Learnt] = (),
    ) -> int:
        """Apply the entries after..upto (`changes`: those worth writing, a state with the
        events that change one; `facts`: what devices said about themselves) if `after` is
        what is acknowledged; return the acknowledged sequence afterwards (unchanged when
        the batch was already applied or does not follow on)."""
        with self._session(f"apply a batch from poller {poller_id}", write=True) as s:
            row = s.get(PollerRow, poller_id, with_for_update=True)
            if row is None:
                return 0
            if row.acked_seq != after or upto <= after:
                return row.acked_seq
            latest = {st.device_id: st for _, st in changes if st is not None}
            write_changes(s, [e for e, _ in changes], [*latest.values()])
            for device, source, values, at in facts:
                learn_in(s, device, source, values, at)
            row.acked_seq = upto
            return row.acked_seq


def _record(r: PollerRow) -> PollerRecord:
    return PollerRecord(
        r.id, tuple(r.sites), r.enrolled_at, r.revoked_at, r.last_seen, r.acked_seq,
        r.version, r.silent_since, r.token_hash, r.clock_offset, r.backlog,
    )  # fmt: skip
