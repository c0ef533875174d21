"""`monitord inspections|followups|warranty` against a configuration file and SQLite."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from monitord.cli import main
from monitord.config import Config
from monitord.store import Store
from tests.support.prevention import config_data, sync


def _cli(tmp_path: Path, *args: str, lang: str = "en") -> Result:
    path = tmp_path / "monitord.yaml"
    if not path.exists():
        data = config_data(database=f"sqlite:///{tmp_path / 'm.db'}")
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        store = Store.open(data["database"])  # the daemon has written the archive
        store.upgrade()
        sync(store, Config.model_validate(data), dt.datetime.now(dt.UTC))
        store.close()
    return CliRunner().invoke(main, ["-c", str(path), "--lang", lang, *args])


def _json(tmp_path: Path, *args: str) -> Any:
    result = _cli(tmp_path, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_inspections_list_show_record_and_a_failure_ticket(tmp_path: Path) -> None:
    tasks = _json(tmp_path, "inspections")
    assert {(t["site"], t["kind"]) for t in tasks} >= {("a", "camera"), ("b", "nvr")}
    assert _json(tmp_path, "inspections", "list") == tasks  # listing twice creates nothing
    camera = next(t for t in tasks if (t["site"], t["kind"]) == ("a", "camera"))
    assert camera["state"] == "open" and camera["due_at_local"].endswith("+08:00")
    text = _cli(tmp_path, "inspections", "show", str(camera["id"]), lang="zh").output
    assert "清洁镜头和护罩" in text and "未检" in text
    done = _json(tmp_path, "inspections", "record", str(camera["id"]), "night_vision", "fail",
                 "--by", "li", "--note", "IR off", "--device", "a-cam1", "--open-ticket")  # fmt: skip
    assert done["failed"] == ["night_vision"] and done["ticket"] is not None
    ticket = _json(tmp_path, "ticket", "show", str(done["ticket"]))
    assert (ticket["class"], ticket["root_device"]) == ("C", "a-cam1")
    # Under the 3-year project warranty (accepted 2024-02-29) until 2027-02-28.
    assert ticket["repair"]["warranty_end"] == "2027-02-28"
    shown = _cli(tmp_path, "ticket", "show", str(done["ticket"])).output
    assert f"warranty end 保修截止 {ticket['repair']['warranty_end']}" in shown
    bad = _cli(tmp_path, "inspections", "record", str(camera["id"]), "nope", "pass", "--by", "li")
    assert bad.exit_code == 1 and "has no item 'nope'" in bad.output


def test_followups_record_and_list_in_both_languages(tmp_path: Path) -> None:
    sites = _json(tmp_path, "followups")
    assert [s["site"] for s in sites] == ["a"]  # seed 004 owes no calendar visits
    visit = _json(tmp_path, "followups", "record", "a", "--by", "wang", "--contact", "赵经理",
                  "--attitude", "5", "--responsibility", "5", "--effect", "4", "--score", "92",
                  "--problems", "门禁偶尔不开", "--open-ticket")  # fmt: skip
    assert visit["score"] == 92 and visit["quality_problem"] and visit["ticket"] is not None
    listed = _json(tmp_path, "followups", "list", "--site", "a")
    assert listed[0]["current"]["state"] == "done"
    assert listed[0]["visits"][0]["contact"] == "赵经理"
    zh = _cli(tmp_path, "followups", lang="zh").output
    assert "验收日期" in zh and "92" in zh
    bad = _cli(tmp_path, "followups", "record", "a", "--by", "x", "--score", "101")
    assert bad.exit_code == 2 and "--score" in bad.output


def test_warranty_within(tmp_path: Path) -> None:
    far = _json(tmp_path, "warranty", "--within", "20000d")
    assert {c["device"] for c in far} >= {"a-nvr", "a-cam3"}
    assert all(c["warranty_end"] for c in far)
    bad = _cli(tmp_path, "warranty", "--within", "soon")
    assert bad.exit_code == 2 and "--within" in bad.output
    text = _cli(tmp_path, "warranty", "--within", "20000d", lang="zh").output
    assert "保修截止" in text and "厂商保修" in text
