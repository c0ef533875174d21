"""The one-pass YAML loader gives exactly `yaml.safe_load`'s data, with a line for each path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from monitord.config import yamlmap
from monitord.config.yamlmap import YamlError, load_located

DOCUMENTS = {
    "block": "a: 1\nb: [x, 2.5, true, null]\nc:\n  d: 2026-01-02\n  e: '007'\n",
    "flow": '{"sites": [{"id": "s1", "zone": "city"}], "n": 10, "off": false}\n',
    "anchors": "base: &b {port: 80, path: /x}\ncam: *b\nlist: [*b, *b]\n",
    "merge": "base: &b {port: 80, path: /x}\ncam:\n  <<: *b\n  port: 8080\n",
    "tags": "s: !!set {a, b}\no: !!omap [{x: 1}, {y: 2}]\nn: !!str 12\nb: !!binary aGk=\n",
    "odd keys": "1: one\ntrue: yes\n2026-01-01: day\n? [a, b]\n: seq key\n",
    "scalars": "i: 0x1f\no: 0o17\nf: .inf\nt: 2026-01-02T03:04:05Z\nm: ~\nq: 'yes'\n",
    "empty": "",
    "top list": "- a\n- {b: 1}\n",
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_data_is_what_safe_load_gives(tmp_path: Path, name: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(DOCUMENTS[name], encoding="utf-8")
    try:
        expected = yaml.safe_load(DOCUMENTS[name])
    except yaml.YAMLError:
        with pytest.raises(YamlError):
            load_located(file)
        return
    assert load_located(file).data == expected


STREAMED = ("block", "flow", "anchors", "scalars", "empty", "top list")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_event_walk_gives_the_composed_walks_data_and_lines(tmp_path: Path, name: str) -> None:
    """Plain documents are built from events (no node tree kept: the daemon's peak memory);
    the others go the composed way, so both give the same everywhere."""
    file, text = tmp_path / "c.yaml", DOCUMENTS[name]
    if name in ("block", "anchors", "scalars"):
        text += "x:\n  - &s one\n  - *s\n  - {y: *s}\n"  # anchored scalars, alias items
    streamed = yamlmap._streamed(file, text, yamlmap._Loader)
    assert (streamed is not None) == (name in STREAMED)
    if streamed is not None:
        composed = yamlmap._load(file, text, yamlmap._Loader)
        assert streamed.data == composed.data
        paths = list(_paths(composed.data))
        assert len(paths) > 1 or not composed.data
        assert [streamed.lines.get(p) for p in paths] == [composed.lines.get(p) for p in paths]


def _paths(value: object, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every path into the data, and one step past each leaf (which has no line)."""
    yield path
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        yield from _paths(item, (*path, key))
    if not items:
        yield (*path, "past")


def test_lines_point_at_each_key_and_item(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("sites:\n  - id: a\n\n  - id: b\n    zone: city\n", encoding="utf-8")
    located = load_located(file)
    assert located.line_of(("sites", 1, "zone")) == 5
    assert located.line_of(("sites", 1)) == 4
    assert located.line_of(("sites", 0, "id")) == 2
    assert located.line_of(("sites", 0, "nothing", "here")) == 2


def test_duplicate_key_names_its_line(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("a: 1\nb:\n  c: 1\n  c: 2\n", encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        load_located(file)
    assert caught.value.line == 4 and "duplicate key 'c'" in caught.value.message


def test_syntax_error_names_its_line(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("a: 1\nb: [unclosed\nc: 2\n", encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        load_located(file)
    assert caught.value.line >= 2 and "invalid YAML" in caught.value.message


JSON_DOCUMENTS = {
    "plain": '{"sites": [{"id": "s1", "n": 10, "f": 2.5, "on": true, "x": null}]}',
    # YAML 1.1 reads these as strings: the JSON path must too
    "numbers": '{"a": 1e5, "b": 1.0e5, "c": 1.0E+5, "d": -0, "e": 3.25, "f": 10.}',
    "escapes": '{"s": "a\\/b\\u00e9\\n", "t": "小区"}',
    "duplicate": '{"a": 1, "a": 2}',
    "nan": '{"a": NaN}',
    "long key": '{"' + "k" * 1100 + '": 1}',
    "control": '{"a": "\x7f"}',
    "deep": "[" * 5000 + "]" * 5000,
    "top list": '[1, "two", {"3": [4]}]',
}


@pytest.mark.parametrize("name", JSON_DOCUMENTS)
def test_the_json_path_reads_what_the_yaml_path_reads(tmp_path: Path, name: str) -> None:
    file = tmp_path / "c.yaml"
    file.write_text(JSON_DOCUMENTS[name], encoding="utf-8")
    try:
        expected = load_located(file).data
    except YamlError as exc:
        with pytest.raises(YamlError) as caught:
            load_located(file, marks=False)
        assert caught.value.line == exc.line  # it took the YAML path, lines and all
        return
    assert load_located(file, marks=False).data == expected


def test_only_plain_json_skips_the_lines(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text('{"a": [1, 2]}\n', encoding="utf-8")
    assert not load_located(file, marks=False).marked
    file.write_text('{"a": 1, "a": 2}\n', encoding="utf-8")  # the YAML path names the line
    with pytest.raises(YamlError, match="duplicate key"):
        load_located(file, marks=False)
    file.write_text("a: [1, 2]\n", encoding="utf-8")
    assert load_located(file, marks=False).marked
