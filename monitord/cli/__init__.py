"""The command line: `monitord` and its command groups, one module each (cli/*.py).

Every command gets the shared `Context` (cli/context.py) as its click object. A command's
module is imported only when that command runs, so `--help` and `--version` stay instant:
the daemon's dependencies (SQLAlchemy, pysnmp, zeep, FastAPI) take about a second to import.
"""

from __future__ import annotations

from pathlib import Path

import click

from monitord import __version__
from monitord.cli.context import Context
from monitord.cli.lazy import LazyGroup
from monitord.present import i18n

DEFAULT_CONFIG = "/etc/monitord/monitord.yaml"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
