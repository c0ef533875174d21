"""docs/security.md names a test for every row: each named test exists (and each
parametrized case's file), so the table cannot point at nothing."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`")


def test_every_test_named_in_the_security_table_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    cited = CITED.findall(text)
    assert len(cited) >= 20, "the table names too few tests"
    for path, name, case in cited:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {name}\(", source, re.MULTILINE), f"{path}::{name}"
        if case.endswith(".yaml"):
            assert (ROOT / "tests/unit/configs/broken" / case).is_file(), case


def test_both_sections_are_there() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert "## Outbound and credentials" in text and "## Inputs and faces" in text
