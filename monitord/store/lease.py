"""The centre's leader lease: one row, taken and renewed by short transactions.

`acquire` is the one statement both for renewing and for taking over: it succeeds for the
holder, or for anyone once the row has expired, and bumps the epoch when the holder changes.
Expiry is compared with the database's clock (`clock_timestamp()`), never a node's, so two
centres with skewed clocks still agree who leads. Tests inject a clock instead.
The epoch is the fencing token that every singleton write checks (store/fencing.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import text

from monitord.store.core import Repository, StoreCore
from monitord.store.fencing import FenceToken

Now = Callable[[], dt.datetime]

_ACQUIRE = """
INSERT INTO centre_lease AS l (name, holder, epoch, expires_at)
VALUES (:name, :holder, 1, {now} + make_interval(secs => :seconds))
ON CONFLICT (name) DO UPDATE
SET epoch = l.epoch + CASE WHEN l.holder = :holder THEN 0 ELSE 1 END,
    holder = :holder,
    expires_at = {now} + make_interval(secs => :seconds)
WHERE l.holder = :holder OR l.expires_at <= {now}
RETURNING epoch
"""

_RELEASE = """
UPDATE centre_lease SET expires_at = {now}
WHERE name = :name AND holder = :holder AND epoch = :epoch
"""


class Leases(Repository):
    def __init__(self, core: StoreCore, now: Now | None = None) -> None:
        super().__init__(core)
        self._now = now

    def _sql(self, template: str, params: dict[str, object]) -> str:
        if self._now is None:
            return template.format(now="clock_timestamp()")
        params["now"] = self._now()
        return template.format(now="CAST(:now AS timestamptz)")

    def acquire(self, name: str, holder: str, seconds: float) -> FenceToken | None:
        """Take or renew lease `name` for `seconds`; its token, or None while another holds it."""
        params: dict[str, object] = {"name": name, "holder": holder, "seconds": seconds}
        query = text(self._sql(_ACQUIRE, params))
        with self._session("renew the centre lease", write=True) as s:
            # A paused old leader's share lock is ended by the server (fencing.IDLE_MS);
            # meanwhile this fails and is tried at the next renewal rather than hanging.
            s.execute(text("SELECT set_config('lock_timeout', '2000', true)"))
            epoch = s.execute(query, params).scalar()
        if epoch is None:
            return None
        return FenceToken(name, holder, int(epoch), self._now)

    def release(self, token: FenceToken) -> None:
        """Let the lease run out now (a clean stop), so a standby need not wait for expiry."""
        params: dict[str, object] = {
            "name": token.name,
            "holder": token.holder,
            "epoch": token.epoch,
        }
        query = text(self._sql(_RELEASE, params))
        with self._session("release the centre lease", write=True) as s:
            s.execute(query, params)

    def holder(self, name: str) -> tuple[str, int, dt.datetime] | None:
        """Who holds lease `name` (possibly expired), its epoch and expiry."""
        query = text("SELECT holder, epoch, expires_at FROM centre_lease WHERE name = :name")
        with self._session("read the centre lease") as s:
            row = s.execute(query, {"name": name}).first()
        if row is None:
            return None
        expires = row[2] if row[2].tzinfo else row[2].replace(tzinfo=dt.UTC)
        return str(row[0]), int(row[1]), expires.astimezone(dt.UTC)
