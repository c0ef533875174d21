"""The command line: `monitord` and its command groups, one module each (cli/*.py).

Every command gets the shared `Context` (cli/context.py) as its click object. A command's
module is imported only when that command runs, so `--help` and `--version` stay instant:
the daemon's dependencies (SQLAlchemy, pysnmp, aiohttp, FastAPI) take about a second to import.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitord import __version__
from monitord.cli.context import Context
from monitord.cli.lazy import LazyGroup
from monitord.present import i18n
from monitord.present.text import CleanOutput

DEFAULT_CONFIG = "/etc/monitord/monitord.yaml"


class _Main(LazyGroup):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383); they cannot be
        # stored or printed, so they are a usage error here, before any command runs.
        for arg in args:
            if any("\ud800" <= c <= "\udfff" for c in arg):
                raise click.UsageError(f"{arg.encode('utf-8', 'replace')!r}: not UTF-8 text")
        return super().parse_args(ctx, args)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitord")
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="MONITORD_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="Configuration file (or set MONITORD_CONFIG).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the output (default: MONITORD_LANG, then LANG).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path, lang: str | None) -> None:
    """monitord watches cameras, NVRs, access controllers and switches, and confirms outages."""
    ctx.obj = Context(config_path, i18n.detect(lang))
    if not isinstance(sys.stdout, CleanOutput):  # stored text never drives the terminal
        sys.stdout = CleanOutput(sys.stdout)
