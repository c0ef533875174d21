"""Hostile YAML: alias bombs, self-referring aliases, deep nesting and huge files are refused
with a file:line error before anything expands them (issue 13, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitord.cli import main
from monitord.config import ConfigError, yamlmap
from monitord.config.load import load


def laughs(levels: int = 9) -> str:
    """The billion laughs: each level is nine aliases of the one before (9**9 values)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "monitord.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    [issue] = caught.value.issues
    return str(issue)


def test_an_alias_bomb_is_refused_unexpanded(tmp_path: Path) -> None:
    assert len(laughs()) < 700
    assert "aliases expand to more than" in refused(tmp_path, laughs())


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "x: &r [*r]\n")
    assert message.startswith(f"{tmp_path / 'monitord.yaml'}:1:") and "refers to itself" in message
    assert "refers to itself" in refused(tmp_path, "a: &m {b: [1, {c: *m}]}\n")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    assert "nested too deeply" in refused(tmp_path, "x: " + "[" * 50_000 + "]" * 50_000 + "\n")


def test_a_file_over_the_cap_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlmap, "MAX_FILE_BYTES", 1000)
    assert "larger than 1000" in refused(tmp_path, "# padding\n" * 200)


def test_ordinary_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "monitord.yaml"
    path.write_text(
        "sites:\n  - &site {id: s1, name: One, timezone: Asia/Shanghai}\n  - {<<: *site, id: s2}\n",
        encoding="utf-8",
    )
    assert [s.id for s in load(path).sites] == ["s1", "s2"]


def test_check_exits_2_on_a_bomb(tmp_path: Path) -> None:
    path = tmp_path / "monitord.yaml"
    path.write_text(laughs(), encoding="utf-8")
    result = CliRunner().invoke(main, ["-c", str(path), "check"])
    assert result.exit_code == 2, result.output
    assert "aliases expand" in result.output and "Traceback" not in result.output


def test_an_error_inside_an_alias_is_placed_at_the_alias(tmp_path: Path) -> None:
    path = tmp_path / "monitord.yaml"
    path.write_text(
        "sites: [{id: s1, name: One, timezone: Asia/Shanghai}]\n"
        "devices:\n"
        "  - {id: a, name: A, kind: switch, address: 10.0.0.1, site: s1,\n"
        "     snmp: &bad {version: '9', community: {env: X}}}\n"
        "  - {id: b, name: B, kind: switch, address: 10.0.0.2, site: s1,\n"
        "     snmp: *bad}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load(path)
    where = [(i.line, i.path) for i in caught.value.issues]
    assert where == [(4, "devices[0].snmp.version"), (6, "devices[1].snmp.version")]
