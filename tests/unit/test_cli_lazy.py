"""The lazy command table lists exactly the commands the modules define, with their help."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import click

from monitord.cli import main
from monitord.cli.lazy import COMMANDS

MODULES = sorted({module for module, _ in COMMANDS.values()})


def first_sentence(text: str | None) -> str:
    paragraph = " ".join((text or "").split("\n\n")[0].split())
    found = re.match(r"(.+?[.!?])(\s|$)", paragraph)
    return found.group(1) if found else paragraph


def test_the_table_is_every_command_of_every_module() -> None:
    assert len(MODULES) >= 10
    defined: dict[str, tuple[str, str]] = {}
    for module in MODULES:
        commands = importlib.import_module(f"monitord.cli.{module}").COMMANDS
        assert commands, module
        for command in commands:
            defined[command.name] = (module, first_sentence(command.help))
    assert defined == COMMANDS


def test_each_command_resolves_through_the_group() -> None:
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
    assert main.get_command(ctx, "no-such-command") is None


def test_help_and_version_import_none_of_the_daemon() -> None:
    probe = (
        "import sys; from click.testing import CliRunner; from monitord.cli import main;"
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output;"
        "assert 'maintenance' in r.output;"
        "heavy = [m for m in ('sqlalchemy', 'pydantic', 'pysnmp', 'aiohttp', 'fastapi',"
        " 'monitord.store', 'monitord.config') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
