"""The SQLite database and its WAL are private to the daemon's user under any umask: they
hold customers' phone numbers (issue 13, item 15)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitord.store import Store
from tests.support.ticketlab import T0


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0o022)  # what a shell gives `monitord run` outside systemd
    try:
        yield
    finally:
        os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_database_wal_and_shm_are_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "state" / "monitord.db"
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    store.states.touch_checks({"nobody": T0})  # a write: the WAL exists now
    files = [path, path.with_name("monitord.db-wal"), path.with_name("monitord.db-shm")]
    try:
        assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
        for f in files:
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        store.close()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_keeps_its_mode_and_data(tmp_path: Path) -> None:
    path = tmp_path / "monitord.db"
    Store.open(f"sqlite:///{path}").close()
    path.chmod(0o640)  # an operator's deliberate choice (a backup group) is left alone
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    assert store.current_revision()
    store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
