"""The engine/session core every repository shares: sessions, locks and error wrapping.

`StoreCore` is the one place that opens sessions; a `Repository` (one per group of tables:
tickets, outbox, devices, ...) holds the core and asks it for a session per call, so a
repository never owns a connection and two repositories can share one transaction (a
ticket event and its outbox messages) by passing the session along.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Engine, Select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.pool import StaticPool

from monitord.store.engine import WRITE
from monitord.store.errors import StoreError
from monitord.store.fencing import current, fence


class StoreCore:
    def __init__(self, engine: Engine, url_redacted: str, password: str | None = None) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE: True})
        self._password = password
        self.url_redacted = url_redacted
        # An in-memory SQLite database is one shared connection: serialise its users.
        self._lock: AbstractContextManager[Any] = (
            threading.Lock() if isinstance(engine.pool, StaticPool) else nullcontext()
        )
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps
        # in the busy handler (1 ms, 2 ms, 5 ms ... 100 ms) rather than queue: a storm of
        # threads writing at once spent most of its time asleep. Queue ours here; other
        # processes (the CLI) still meet the busy handler.
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url_redacted!r})"

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def session(self, what: str, write: bool = False) -> Iterator[Session]:
        bind = self._writer if write else self._engine
        queue = self._write_lock if write else nullcontext()
        token = current() if write else None  # set only in a leader's singleton work
        with queue, self._lock, self.errors(what), Session(bind) as session, session.begin():
            yield session
            if token is not None:
                fence(session, token)

    @contextmanager
    def errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except StatementError as exc:
            if isinstance(exc.orig, ValueError):
                raise exc.orig from None  # a caller's bad value (naive datetime), not the DB
            raise self._error(what, exc) from exc
        except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
            raise self._error(what, exc) from exc

    def _error(self, what: str, exc: BaseException) -> StoreError:
        # The driver's own words ("database or disk is full", "connection refused"), without
        # SQLAlchemy's SQL text, parameters and links.
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        message = " ".join(str(cause).split()) or type(cause).__name__
        if self._password:
            message = message.replace(self._password, "***")
        return StoreError(f"{self.url_redacted}: cannot {what}: {message}")


class Repository:
    """One group of store operations over the shared core; see the module docstring."""

    def __init__(self, core: StoreCore) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._core.url_redacted!r})"

    def _session(self, what: str, write: bool = False) -> AbstractContextManager[Session]:
        return self._core.session(what, write)


def require_aware(value: dt.datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: the store keeps UTC")


Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def narrowed(
    query: Q,
    equal: Iterable[tuple[InstrumentedAttribute[Any], object]] = (),
    within: tuple[InstrumentedAttribute[dt.datetime], dt.datetime | None, dt.datetime | None]
    | None = None,
) -> Q:
    """`query` where each column equals its value (None: any), and `since <= column < until`."""
    for column, value in equal:
        if value is not None:
            query = query.where(column == value)
    if within is not None:
        column, since, until = within
        if since is not None:
            require_aware(since)
            query = query.where(column >= since)
        if until is not None:
            require_aware(until)
            query = query.where(column < until)
    return query
