"""Database fixtures: SQLite always, PostgreSQL in a throw-away cluster (or a given URL).

`store` and `database_url` are parametrised over both backends, so every test using them
is a contract test of the store. PostgreSQL tests carry the `postgres` marker. When the
PostgreSQL binaries are missing the tests are skipped with the reason shown, except under
CI (env `CI` set), where they fail: CI must run them. `MONITORD_TEST_PG_URL` points the
tests at an existing server instead; the URL's user needs CREATEDB.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from monitord.store import Store

_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@dataclass(frozen=True)
class PgServer:
    """A server on which tests may create and drop databases."""

    url: str  # SQLAlchemy URL of the session's database, postgresql+psycopg://…

    def url_for(self, database: str) -> str:
        base, _, _ = self.url.rpartition("/")
        return f"{base}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        return psycopg.connect(_libpq(self.url), autocommit=True)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _initdb() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: float(p.parts[-3]) if p.parts[-3].replace(".", "").isdigit() else 0,
    )
    if found:
        return found[-1]  # the newest major version
    on_path = shutil.which("initdb")
    return Path(on_path) if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(as_postgres: bool, *command: str | Path) -> None:
    argv = [str(c) for c in command]
    if as_postgres:
        # initdb and postgres refuse to run as root.
        argv = ["runuser", "-u", "postgres", "--", *argv]
    # cwd: the postgres user may not be allowed into the current directory.
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")


@contextlib.contextmanager
def _cluster(initdb: Path) -> Iterator[PgServer]:
    bin_dir = initdb.parent
    as_root = os.geteuid() == 0
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="monitord-pg-"))
    data, log = root / "data", root / "server.log"
    try:
        if as_root:
            shutil.chown(root, "postgres", "postgres")
        _run(as_root, initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
             "--no-locale", "--no-sync")  # fmt: skip
        port = _free_port()
        options = (
            f"-k {root} -p {port} -c listen_addresses=127.0.0.1 "
            # Durability is worthless for a throw-away cluster; speed is not.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(as_root, bin_dir / "pg_ctl", "-D", data, "-l", log, "-w", "-t", "60",
             "-o", options, "start")  # fmt: skip
        try:
            server = PgServer(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
            with server.admin() as admin:
                admin.execute("CREATE DATABASE monitord_test")
            yield PgServer(server.url_for("monitord_test"))
        finally:
            _run(as_root, bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    except RuntimeError as exc:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        raise RuntimeError(f"{exc}\n{server_log}") from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("MONITORD_TEST_PG_URL")
    if given:
        yield PgServer(given)
        return
    initdb = _initdb()
    if initdb is None:
        reason = (
            "PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb); "
            "apt-get install postgresql, or set MONITORD_TEST_PG_URL"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so PostgreSQL tests must run: {reason}", pytrace=False)
        pytest.skip(reason)
    with _cluster(initdb) as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"monitord_test_{uuid.uuid4().hex[:12]}"
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server.url_for(name)
    finally:
        with pg_server.admin() as admin:
            # FORCE: a test that failed midway may have left a connection open.
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: not migrated, nothing open."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'monitord.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def sqlite_only(tmp_path: Path) -> str:
    """SQLite alone, for a module that tests something else than the store: the module
    overrides the backends with `database_url = sqlite_only` and keeps the `store` fixture."""
    return f"sqlite:///{tmp_path / 'state' / 'monitord.db'}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on each backend."""
    opened = Store.open(database_url)
    opened.upgrade()
    try:
        yield opened
    finally:
        opened.close()
