"""`centre.ha`: off unless asked for, and refused on SQLite with the file and line."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest

from monitord.config import ConfigError
from monitord.config.load import load


def issues(file: Path) -> list[str]:
    try:
        load(file)
    except ConfigError as exc:
        return [str(issue).removeprefix(f"{file.parent}/") for issue in exc.issues]
    return []


def test_ha_is_off_by_default_and_names_the_host(tmp_path: Path) -> None:
    file = tmp_path / "monitord.yaml"
    file.write_text("log_level: info\n", encoding="utf-8")
    ha = load(file).centre.ha
    assert (ha.enabled, ha.lease, ha.node) == (
        False,
        dt.timedelta(seconds=15),
        socket.gethostname(),
    )


def test_ha_on_sqlite_is_refused_where_it_is_switched_on(tmp_path: Path) -> None:
    file = tmp_path / "monitord.yaml"
    file.write_text("log_level: info\ncentre:\n  ha:\n    enabled: true\n", encoding="utf-8")
    assert issues(file) == [
        "monitord.yaml:4: centre.ha.enabled: centre HA needs PostgreSQL (database: postgresql://…):"
        + " every centre must share one database, and a SQLite file belongs to one host"
    ]


@pytest.mark.parametrize(("lease", "ok"), [("1s", False), ("20s", True), ("1h", False)])
def test_ha_on_postgresql_is_accepted_with_a_sane_lease(
    tmp_path: Path, lease: str, ok: bool
) -> None:
    file = tmp_path / "monitord.yaml"
    file.write_text(
        "database: postgresql://monitord@db/monitord\n"
        f"centre: {{ha: {{enabled: true, lease: {lease}, node: c1}}}}\n",
        encoding="utf-8",
    )
    found = issues(file)
    if ok:
        assert found == [] and load(file).centre.ha.node == "c1"
    else:
        assert found == ["monitord.yaml:2: centre.ha.lease: lease must be between 3s and 10m"]
