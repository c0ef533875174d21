"""No input makes the CLI print a traceback: ids beyond 64 bits, years 1 and 9999, a
century-long window, bytes that are not UTF-8 → exit 2 with a message (issue 13, item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.config import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.support.ticketlab import T0, config_data


@pytest.fixture
def config(tmp_path: Path) -> Path:
    data = config_data(f"sqlite:///{tmp_path / 'monitord.db'}", "city")
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    parsed = Config.model_validate(data)
    store = Store.open(str(data["database"]))  # the archive, as the daemon leaves it
    store.upgrade()
    store.devices.sync(site_records(parsed), [device_record(d) for d in parsed.devices], T0)
    store.close()
    return path


BIG = str(2**63)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ticket", "show", BIG], "range"),
        (["ticket", "comment", str(2**64), "x", "--by", "li"], "range"),
        (["report", "ticket", BIG], "range"),
        (["maintenance", "end", BIG], "range"),
        (["inspections", "show", BIG], "range"),
        (["inspections", "record", BIG, "item", "pass", "--by", "li"], "range"),
        (["report", "monthly", "--contract", "seed-000", "--month", "0001-01"], "year"),
        (["report", "monthly", "--contract", "seed-000", "--month", "9999-12"], "year"),
        (["report", "log", "--site", "s1", "--from", "0001-01-01", "--to", "0001-01-02"], "year"),
        (["report", "log", "--site", "s1", "--from", "9999-12-30", "--to", "9999-12-31"], "year"),
        (["maintenance", "start", "nvr", "--for", "99999999999d", "--reason", "x", "--by", "li"],
         "longer than"),
    ],
    ids=lambda a: " ".join(a)[:40] if isinstance(a, list) else a,
)  # fmt: skip
def test_out_of_range_input_is_exit_2_with_a_message(
    config: Path, args: list[str], says: str
) -> None:
    result = CliRunner().invoke(main, ["-c", str(config), *args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert says in result.output and "No such command" not in result.output, result.output
    assert "Traceback" not in result.output


def test_bytes_that_are_not_utf8_are_exit_2(config: Path, tmp_path: Path) -> None:
    # A real process: only the OS hands Python undecodable argv (as lone surrogates).
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    opened = subprocess.run(
        [sys.executable, "-m", "monitord", "-c", str(config), "ticket", "open", "--site",
         "s1", "--by", "li", os.fsencode("camera \udcff dark")],
        capture_output=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert opened.returncode == 2, opened.stderr
    assert b"not UTF-8" in opened.stderr and b"Traceback" not in opened.stderr
    report = tmp_path / "report.txt"
    report.write_bytes(b"\xff\xfe broken")
    result = CliRunner().invoke(main, ["-c", str(config), "ticket", "comment", "1", "--by", "li",
                                       "--file", str(report)])  # fmt: skip
    assert result.exit_code == 2 and "not UTF-8" in result.output
