"""Fencing tokens: a singleton write commits only while its node still holds the lease.

A leader's singleton work (SLA clocks, dispatch, ...) runs inside `fenced(token)`; every
write transaction the store opens there checks, just before it commits and in that same
transaction, that the lease row still names this holder and epoch and has not expired.
`FOR SHARE` keeps a takeover from committing between the check and the commit, so a
leader paused (SIGSTOP, a long GC, a dead link) and resumed after a takeover writes nothing:
its transaction is rolled back with `Fenced`. Outside `fenced` (HA off) nothing is checked.

Why not a session advisory lock: see docs/operator-guide.md, "Centre HA".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from monitord.store.errors import StoreError

# A transaction paused after its check holds the row's share lock; the server ends it after
# this long, so a stopped old leader cannot keep the standby from taking over.
IDLE_MS = 5000


@dataclass(frozen=True, slots=True)
class FenceToken:
    name: str
    holder: str
    epoch: int
    # The instant to compare the expiry with; None: the database's clock (tests inject one).
    now: Callable[[], dt.datetime] | None = field(default=None, compare=False)


class Fenced(StoreError):
    """The lease moved on (or ran out): this node is no longer the leader."""


_CURRENT: ContextVar[FenceToken | None] = ContextVar("monitord_fence", default=None)

_CHECK = text(
    "SELECT epoch FROM centre_lease WHERE name = :name AND holder = :holder"
    " AND epoch = :epoch AND expires_at > {now} FOR SHARE"
)


def current() -> FenceToken | None:
    return _CURRENT.get()


@contextmanager
def fenced(token: FenceToken) -> Iterator[None]:
    """Every store write in this context (and threads started from it with
    `asyncio.to_thread`, which copies the context) checks `token` before it commits."""
    reset = _CURRENT.set(token)
    try:
        yield
    finally:
        _CURRENT.reset(reset)


def fence(session: Session, token: FenceToken) -> None:
    """Raise `Fenced` (the caller's transaction then rolls back) unless `token` still holds."""
    session.execute(
        text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)"),
        {"ms": str(IDLE_MS)},
    )
    params: dict[str, object] = {"name": token.name, "holder": token.holder}
    params["epoch"] = token.epoch
    if token.now is None:
        query = text(_CHECK.text.format(now="clock_timestamp()"))
    else:
        query, params["now"] = text(_CHECK.text.format(now=":now")), token.now()
    if session.execute(query, params).first() is None:
        raise Fenced(f"lease {token.name!r} epoch {token.epoch} is no longer held by this node")
