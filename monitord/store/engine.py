"""Engines for the two backends: SQLite (WAL, one writer at a time) and PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from monitord.store.errors import StoreError

WRITE = "monitord_write"  # execution option: this transaction will write


def json_dumps(value: Any) -> str:
    # An odd value in an observation must not make a state change unrecordable; Chinese
    # text stays readable in the database.
    return json.dumps(value, ensure_ascii=False, default=str)


def sqlite_engine(url: URL, redacted: str) -> Engine:
    path = url.database or ""
    memory = path in ("", ":memory:") or url.query.get("mode") == "memory"
    if not memory and not path.startswith("file:"):
        try:
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{redacted}: cannot create the database directory: {exc}") from exc
        try:
            _create_private(Path(path))
        except OSError as exc:
            raise StoreError(f"{redacted}: cannot create the database: {exc}") from exc
    engine = create_engine(
        url,
        poolclass=StaticPool if memory else None,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_serializer=json_dumps,
    )
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _create_private(path: Path) -> None:
    """Create the database file 0600 whatever the umask (it holds customers' phone numbers;
    systemd's UMask=0077 covers only the service). SQLite gives the -wal and -shm files
    the database file's permissions, so they follow."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself: pysqlite's implicit transactions
    # start late and cannot say IMMEDIATE.
    dbapi_connection.isolation_level = None
    for pragma in (
        "journal_mode = WAL",  # readers (the CLI) never block the daemon's writes
        "synchronous = NORMAL",  # durable across a crash of the process; fsync at checkpoint
        "foreign_keys = ON",
        "busy_timeout = 30000",
    ):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN, so it waits for another writer (busy_timeout)
    # instead of failing with SQLITE_BUSY when it upgrades from reading to writing.
    write = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def postgresql_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {"application_name": "monitord"}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = 10  # a black-holed host must not hang the start
    return create_engine(
        url,
        pool_pre_ping=True,  # the server may have restarted since the connection was pooled
        pool_size=5,
        max_overflow=5,
        connect_args=connect_args,
        json_serializer=json_dumps,
    )
