"""The one-pass YAML loader gives exactly `yaml.safe_load`'s data, with a line for each path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

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
