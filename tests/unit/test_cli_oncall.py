"""`monitord oncall`: who is on call at a time, in both languages and as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from monitord.cli import main

PEOPLE = [
    {"id": "zhang", "name": "张伟", "phone": "+8613800000001"},
    {"id": "li", "name": "李娜", "email": "li@example.com"},
    {"id": "wang", "name": "王强"},
]
CONFIG: dict[str, Any] = {
    "state_dir": "/nonexistent",
    "sites": [
        {"id": "hz1", "name": "杭州一号", "contract": "hz"},
        {"id": "kashi", "name": "喀什", "contract": "xj", "timezone": "Asia/Urumqi"},
    ],
    "notify": {
        "oncall": {
            "people": PEOPLE,
            "rotations": [
                {"id": "hz-week", "contracts": ["hz"], "start": "2026-03-02",
                 "people": ["zhang", "li"],
                 "overrides": [{"from": "2026-03-04T00:00", "until": "2026-03-06T00:00",
                                "person": "wang", "replaces": "zhang", "note": "年假"}]},
                {"id": "kashi-day", "sites": ["kashi"], "handover": "daily",
                 "handover_at": "08:00", "start": "2026-03-01", "people": ["li", "wang"]},
            ],
        }
    },
}  # fmt: skip


@pytest.fixture
def run(tmp_path: Path) -> Any:
    data = {**CONFIG, "contracts": _contracts()}
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["-c", str(path), *args], catch_exceptions=False)

    return invoke


def _contracts() -> list[dict[str, Any]]:
    fallback = {"name": "any", "class": "D"}
    return [{"id": c, "name": c, "rules": [fallback]} for c in ("hz", "xj")]


def test_json_names_the_person_the_hand_over_and_who_comes_next(run: Any) -> None:
    result = run("oncall", "--at", "2026-03-03T10:00", "--contract", "hz", "--json")
    assert result.exit_code == 0, result.output
    [shown] = json.loads(result.output)
    assert shown["rotation"] == "hz-week"
    assert shown["on_call"]["name"] == "张伟" and shown["on_call"]["phone"] == "+8613800000001"
    assert shown["since"] == "2026-03-02T09:00:00+08:00"
    # Zhang's leave starts on Wednesday: the next change is to the stand-in, not to li.
    assert shown["next_handover"] == "2026-03-04T00:00:00+08:00"
    assert shown["next"]["id"] == "wang"


def test_text_in_both_languages_with_the_override(run: Any) -> None:
    zh = run("--lang", "zh", "oncall", "--at", "2026-03-05T12:00", "--site", "hz1")
    assert zh.exit_code == 0, zh.output
    assert "当前值班 王强（wang）" in zh.output and "代替 张伟（zhang）" in zh.output
    assert "下次交接 2026-03-06 00:00 → 张伟（zhang）" in zh.output
    en = run("--lang", "en", "oncall", "--at", "2026-03-05T12:00", "--site", "hz1")
    assert "on call 王强 (wang), covering for 张伟 (zhang)" in en.output
    assert "next hand-over 2026-03-06 00:00 -> 张伟 (zhang)" in en.output


def test_a_site_rotation_in_its_own_zone(run: Any) -> None:
    # 01:30 UTC is 07:30 in Urumqi: still the shift that began at 08:00 the day before.
    result = run("oncall", "--at", "2026-03-02T01:30Z", "--site", "kashi", "--json")
    [shown] = json.loads(result.output)
    assert shown["timezone"] == "Asia/Urumqi"
    assert shown["on_call"]["id"] == "li" and shown["since"] == "2026-03-01T08:00:00+06:00"
    every = json.loads(run("oncall", "--json").output)
    assert [r["rotation"] for r in every] == ["hz-week", "kashi-day"]


def test_bad_input_is_named(run: Any) -> None:
    bad_time = run("oncall", "--at", "tomorrow")
    assert bad_time.exit_code == 2 and "--at 'tomorrow'" in bad_time.output
    assert "no site 'nope'" in run("oncall", "--site", "nope").output
    assert "no contract 'nope'" in run("oncall", "--contract", "nope").output
    both = run("oncall", "--site", "hz1", "--contract", "hz")
    assert both.exit_code == 2 and "exclude each other" in both.output
