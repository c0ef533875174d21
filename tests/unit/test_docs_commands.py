"""Every `monitord COMMAND [SUBCOMMAND]` the README and the operator guide show exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from monitord.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs" / "operator-guide.md"]
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`([^`\n]+)`")
# `monitord` where a shell command starts, then global options, a command, maybe a subcommand.
_CALL = re.compile(
    r"(?:^|sudo |&& |\$ )monitord"
    r"((?:\s+(?:-c|--config|--lang)\s+\S+)*)"
    r"[ \t]+([a-z][a-z-]*)(?:[ \t]+([a-z][a-z|-]*))?",
    re.MULTILINE,
)


def code(markdown: str) -> list[str]:
    """Fenced blocks and inline code spans: where commands are shown, not prose."""
    return [*_FENCE.findall(markdown), *_SPAN.findall(_FENCE.sub("", markdown))]


def calls(markdown: str) -> list[tuple[str, list[str]]]:
    return [
        (m.group(2), (m.group(3) or "").split("|"))
        for snippet in code(markdown)
        for m in _CALL.finditer(snippet)
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_documented_commands_exist(doc: Path) -> None:
    found = calls(doc.read_text(encoding="utf-8"))
    assert len(found) >= 10
    for command, words in found:
        group = main.get_command(click.Context(main), command)
        assert group is not None, f"{doc.name}: monitord {command}"
        if isinstance(group, click.Group) and words != [""] and words[0] in group.commands:
            continue
        if isinstance(group, click.Group) and not group.invoke_without_command:
            assert all(w in group.commands for w in words), f"{doc.name}: {command} {words}"


def test_the_pattern_reads_commands_and_subcommands() -> None:
    text = (
        "monitord watches; run `monitord -c … ticket ack|close 12` or\n"
        "```sh\nsudo monitord --lang zh db upgrade\n```\n"
    )
    assert calls(text) == [("db", ["upgrade"]), ("ticket", ["ack", "close"])]
    assert calls("`createdb -O monitord monitord; /opt/monitord/bin/monitord x`") == []
