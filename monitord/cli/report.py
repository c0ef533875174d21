"""`monitord report monthly|ticket|log`: the customer-facing reports (R1, R2, R3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from monitord.cli.context import ID, Context, fail
from monitord.config import Config
from monitord.present import i18n
from monitord.reports import appendix, chromium, html, markdown, monthly_view
from monitord.reports.document import Document
from monitord.reports.service import (
    ReportInputError,
    log_export,
    monthly_report,
    ticket_document,
)
from monitord.store import Store, StoreError


def _lang(explicit: str | None) -> str | None:
    """--lang here, else the global --lang; None leaves it to the contract."""
    root = click.get_current_context().find_root().params.get("lang")
    return explicit or (str(root) if root else None)


def _write(doc: Document, fmt: str, output: Path | None) -> None:
    if fmt == "pdf":
        if output is None:
            raise click.UsageError("--format pdf needs -o FILE")
        try:
            chromium.render(html.render(doc), output, "pdf")
        except (chromium.RendererMissing, chromium.RenderFailed) as exc:
            fail(str(exc))
        click.echo(f"{output}: PDF written", err=True)
        return
    _emit(html.render(doc) if fmt == "html" else markdown.render(doc), output)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: written", err=True)


def _bad(exc: ReportInputError) -> click.BadParameter:
    return click.BadParameter(str(exc), param_hint=f"--{exc.option}")


_LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                     help="Language (default: the global --lang, else the contract's).")  # fmt: skip
_OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                       default=None, help="Write here instead of standard output.")  # fmt: skip


@click.group("report")
def report_group() -> None:
    """Customer-facing reports: monthly (R2), one ticket's record (R1), logs (R3)."""


@report_group.command("monthly")
@click.option("--contract", "contract_id", required=True, help="The contract's id.")
@click.option("--month", required=True, help="The month, YYYY-MM (in the contract's time zone).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "pdf"]), default="html",
              show_default=True)  # fmt: skip
@click.option("--warranty-days", default=90, show_default=True, type=click.IntRange(1, 3660),
              help="List warranties ending within this many days after the month.")  # fmt: skip
@click.option("--appendix", "appendix_fmt", type=click.Choice(["csv", "html", "none"]),
              default="csv", show_default=True,
              help="With -o: every device's availability in a file beside the report "
                   "(june.pdf -> june-devices.csv); the report then shows the worst devices.")  # fmt: skip
@_LANG
@_OUTPUT
@click.pass_obj
def monthly_command(
    obj: Context,
    contract_id: str,
    month: str,
    fmt: str,
    warranty_days: int,
    appendix_fmt: str,
    lang: str | None,
    output: Path | None,
) -> None:
    """Tickets by class, SLA compliance, MTTA/MTTR, availability, prevention, warranty."""
    from monitord.cli.progress import shown

    now = obj.now()
    beside = None if output is None or appendix_fmt == "none" else appendix_fmt
    name = appendix.file_name(output, beside) if output and beside else None
    stages = 3 if name else 2
    with shown(i18n.t("progress_report_read", obj.lang), stages) as step:
        report = _made(
            obj,
            lambda store, config: monthly_report(
                store, config, contract_id, month, _lang(lang), now, warranty_days
            ),
        )
        step(1, what=i18n.t("progress_report_write", obj.lang))
        _write(monthly_view.document(report, now, name), fmt, output)
        step(2, what=i18n.t("progress_report_appendix", obj.lang) if name else None)
        if output and name:
            text = (
                appendix.to_csv(report)
                if beside == "csv"
                else html.render(appendix.document(report, now))
            )
            _emit(text, output.with_name(name))
            step(3)


@report_group.command("ticket")
@click.argument("ticket_id", type=ID)
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md",
              show_default=True)  # fmt: skip
@_LANG
@_OUTPUT
@click.pass_obj
def ticket_command(
    obj: Context, ticket_id: int, fmt: str, lang: str | None, output: Path | None
) -> None:
    """One ticket's documents and the customer's sign-off as one record (R1)."""
    found = _made(
        obj, lambda store, config: ticket_document(store, config, ticket_id, _lang(lang), obj.now())
    )
    if found is None:
        fail(f"ticket {ticket_id} does not exist")
    _write(found[1], fmt, output)


@report_group.command("log")
@click.option("--site", "site_id", default=None, help="One site.")
@click.option("--contract", "contract_id", default=None, help="Every site of a contract.")
@click.option("--from", "since", required=True, help="First day, YYYY-MM-DD (site time).")
@click.option("--to", "until", required=True, help="Last day, YYYY-MM-DD, included.")
@click.option("--format", "fmt", type=click.Choice(["csv", "md"]), default="csv",
              show_default=True)  # fmt: skip
@_LANG
@_OUTPUT
@click.pass_obj
def log_command(
    obj: Context,
    site_id: str | None,
    contract_id: str | None,
    since: str,
    until: str,
    fmt: str,
    lang: str | None,
    output: Path | None,
) -> None:
    """The customer's service log and the system operation log over some days (R3)."""
    if (site_id is None) == (contract_id is None):
        raise click.UsageError("give exactly one of --site or --contract")
    export = _made(
        obj,
        lambda store, config: log_export(
            store, config, site_id, contract_id, since, until, _lang(lang), obj.now()
        ),
    )
    _emit(export.csv() if fmt == "csv" else markdown.render(export.document()), output)


T = TypeVar("T")


def _made(obj: Context, make: Callable[[Store, Config], T]) -> T:
    """What `make` builds from the configuration and an open store; bad input exits 2."""
    config = obj.config()
    store = obj.store(config)
    try:
        return make(store, config)
    except ReportInputError as exc:
        raise _bad(exc) from None
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()


COMMANDS = (report_group,)
