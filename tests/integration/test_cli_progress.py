"""Slow terminal work shows a progress bar on a terminal and nothing without one (issue 15):
a CSV import of many rows and `db upgrade`; stdout stays the command's output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.terminal import on_terminal

ROWS = 300


def piped(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def monitord(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitord", "-c", str(config), *args]


def a_config(tmp_path: Path) -> Path:
    path = tmp_path / "monitord.yaml"
    path.write_text(
        f"state_dir: {tmp_path / 'state'}\n"
        "sites: [{id: s1, name: Site 1, timezone: Asia/Shanghai}]\n",
        encoding="utf-8",
    )
    return path


def test_a_csv_import_shows_its_rows_on_a_terminal_only(tmp_path: Path) -> None:
    config = a_config(tmp_path)
    csv = tmp_path / "devices.csv"
    rows = [f"cam{n},Camera {n},camera,10.1.{n // 200}.{1 + n % 200},s1" for n in range(ROWS)]
    csv.write_text("id,name,kind,address,site\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, drawn = on_terminal(monitord(config, "devices", "import", str(csv)))
    assert code == 0, drawn
    assert "reading rows" in drawn and f"{ROWS}/{ROWS}" in drawn, drawn
    assert out.count("id: cam") == ROWS and "reading rows" not in out  # stdout: the YAML only
    quiet = piped(monitord(config, "devices", "import", str(csv)))
    assert quiet.returncode == 0 and quiet.stdout == out
    assert "reading rows" not in quiet.stderr and "\x1b" not in quiet.stderr


def test_db_upgrade_shows_each_migration_and_nothing_when_up_to_date(tmp_path: Path) -> None:
    config = a_config(tmp_path)
    code, _, drawn = on_terminal(monitord(config, "--lang", "zh", "db", "upgrade"))
    assert code == 0, drawn
    versions = Path(__file__).parents[2] / "monitord" / "store" / "migrations" / "versions"
    total = len(list(versions.glob("[0-9][0-9][0-9][0-9]_*.py")))
    assert "应用数据库迁移" in drawn and f"{total}/{total}" in drawn, drawn
    code, _, drawn = on_terminal(monitord(config, "db", "upgrade"))
    assert code == 0 and "applying schema migrations" not in drawn  # nothing to apply
    (tmp_path / "state" / "monitord.db").unlink()
    quiet = piped(monitord(config, "db", "upgrade"))
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert quiet.stdout.strip().endswith(versions_head(versions))


def versions_head(versions: Path) -> str:
    return max(p.name[:4] for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))
