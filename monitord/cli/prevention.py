"""`monitord inspections`, `monitord followups`, `monitord warranty`: the preventive side.

Listing inspections first creates the tasks owed up to now (idempotent, as the daemon
does), so the list is complete even when the daemon is not running.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click

from monitord.cli.context import ID, Context, fail
from monitord.config.contracts import TicketClass
from monitord.config.durations import parse_duration
from monitord.notify.messages import Routing
from monitord.present import prevention as pv
from monitord.present.devices import local
from monitord.present.tickets import to_json
from monitord.prevention import followups, inspections, warranty
from monitord.store import StoreError
from monitord.store.records import FollowUpVisit

_CLASSES = click.Choice([c.value for c in TicketClass])


@click.group("inspections", invoke_without_command=True)
@click.option("--site", default=None)
@click.option("--open", "open_only", is_flag=True, help="Only tasks not completed.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def inspections_group(ctx: click.Context, site: str | None, open_only: bool, as_json: bool) -> None:
    """Preventive inspections (P1): list tasks, show one, record results."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_inspections, site=site, open_only=open_only, as_json=as_json)


@inspections_group.command("list")
@click.option("--site", default=None)
@click.option("--open", "open_only", is_flag=True, help="Only tasks not completed.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_inspections(obj: Context, site: str | None, open_only: bool, as_json: bool) -> None:
    """Inspection tasks by due time, with their state (open, overdue, done)."""
    config = obj.config()
    store = obj.store(config)
    now = obj.now()
    try:
        inspections.generate(store, config, now)
        found = store.inspections.tasks(site=site, open_only=open_only)
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        click.echo(to_json([pv.task_dict(config, t, None, now) for t in found]))
    else:
        click.echo(pv.tasks_text(config, found, now, obj.lang))


@inspections_group.command("show")
@click.argument("task_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show_inspection(obj: Context, task_id: int, as_json: bool) -> None:
    """One task: its checklist and every recorded result."""
    config = obj.config()
    store = obj.store(config)
    try:
        found = store.inspections.task(task_id)
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    if found is None:
        fail(f"inspection {task_id} does not exist")
    task, results = found
    if as_json:
        click.echo(to_json(pv.task_dict(config, task, results, obj.now())))
    else:
        click.echo(pv.task_text(config, task, results, obj.lang, obj.now()))


@inspections_group.command("record")
@click.argument("task_id", type=ID)
@click.argument("item")
@click.argument("result", type=click.Choice(["pass", "fail"]))
@click.option("--by", required=True, help="The engineer who checked it.")
@click.option("--note", default="", help="What was seen or done.")
@click.option("--device", default=None, help="The device the result is about.")
@click.option("--open-ticket", is_flag=True, help="A failure opens a ticket at once.")
@click.option("--class", "ticket_class", type=_CLASSES, default="C", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def record_inspection(
    obj: Context, task_id: int, item: str, result: str, by: str, note: str, device: str | None,
    open_ticket: bool, ticket_class: str, as_json: bool,
) -> None:  # fmt: skip
    """Record one checklist item's result (pass or fail)."""
    config = obj.config()
    store = obj.store(config)
    try:
        task, results, ticket = inspections.record(
            store, config, task_id, item, result, by, obj.now(), note, device, open_ticket,
            TicketClass(ticket_class), Routing.from_config(config),
        )  # fmt: skip
    except (inspections.InspectionError, StoreError) as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        click.echo(to_json({**pv.task_dict(config, task, results, obj.now()), "ticket": ticket}))
        return
    state = pv.w("done", obj.lang) if task.completed_at else pv.w("open", obj.lang)
    line = f"#{task.id} {item}: {pv.w(result, obj.lang)} ({state})"
    click.echo(line + (f"; {pv.w('ticket', obj.lang)} #{ticket}" if ticket else ""))


@click.group("followups", invoke_without_command=True)
@click.option("--site", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def followups_group(ctx: click.Context, site: str | None, as_json: bool) -> None:
    """Customer follow-up visits (P4, 用户回访): what is owed, record a visit."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_followups, site=site, as_json=as_json)


@followups_group.command("list")
@click.option("--site", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_followups(obj: Context, site: str | None, as_json: bool) -> None:
    """Per site: the current visit window, windows missed, the last visit and its score."""
    config = obj.config()
    store = obj.store(config)
    try:
        visits = store.followups.visits(site=site)
        statuses = followups.ticket_statuses(store, visits)
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    sites = pv.followups_dicts(config, visits, obj.now(), site, statuses)
    click.echo(to_json(sites) if as_json else pv.followups_text(sites, obj.lang))


@followups_group.command("record")
@click.argument("site")
@click.option("--by", required=True, help="Who visited or called.")
@click.option("--contact", default="", help="Who answered for the customer.")
@click.option("--attitude", type=click.IntRange(1, 5), help="服务态度, 1-5.")
@click.option("--responsibility", type=click.IntRange(1, 5), help="责任心, 1-5.")
@click.option("--effect", type=click.IntRange(1, 5), help="服务效果, 1-5.")
@click.option("--score", type=click.IntRange(0, 100), help="满意度评分, 0-100.")
@click.option("--problems", default="", help="Problems the customer named.")
@click.option("--suggestions", default="", help="The customer's suggestions.")
@click.option("--quality-problem", is_flag=True, help="确属工程质量问题 (without a ticket).")
@click.option("--open-ticket", is_flag=True, help="A quality problem: open a ticket for it.")
@click.option("--class", "ticket_class", type=_CLASSES, default="C", show_default=True)
@click.option("--at", "visited", type=click.DateTime(), default=None,
              help="When (site time); default now.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def record_followup(
    obj: Context, site: str, by: str, contact: str, attitude: int | None,
    responsibility: int | None, effect: int | None, score: int | None, problems: str,
    suggestions: str, quality_problem: bool, open_ticket: bool, ticket_class: str,
    visited: dt.datetime | None, as_json: bool,
) -> None:  # fmt: skip
    """Record a follow-up visit and its survey (用户回访反馈信息表)."""
    config = obj.config()
    found = next((s for s in config.sites if s.id == site), None)
    if found is None:
        fail(f"unknown site {site!r}")
    at = obj.now()
    if visited is not None:
        at = visited.replace(tzinfo=ZoneInfo(found.timezone)).astimezone(dt.UTC)
    visit = FollowUpVisit(
        "", site, at, by, contact, attitude, responsibility, effect, score, problems,
        suggestions, quality_problem,
    )  # fmt: skip
    store = obj.store(config)
    try:
        saved = followups.record(
            store, config, visit, open_ticket, TicketClass(ticket_class),
            Routing.from_config(config),
        )  # fmt: skip
    except (followups.FollowUpError, StoreError, ValueError) as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        click.echo(to_json(pv.visit_dict(found, saved)))
        return
    ticket = f"; {pv.w('ticket', obj.lang)} #{saved.ticket_id}" if saved.ticket_id else ""
    click.echo(f"{site}: #{saved.id} {local(saved.visited_at, found.timezone)}{ticket}")


@click.command("warranty")
@click.option("--within", default=None, help="Horizon, e.g. 90d (default: prevention."
              "warranty_horizon).")  # fmt: skip
@click.option("--site", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def warranty_command(obj: Context, within: str | None, site: str | None, as_json: bool) -> None:
    """Devices whose warranty (project or manufacturer) ends within the horizon."""
    config = obj.config()
    try:
        horizon = parse_duration(within) if within else config.prevention.warranty_horizon
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--within") from None
    found = warranty.expiring(config, obj.now(), horizon, site)
    if as_json:
        click.echo(to_json([pv.coverage_dict(c) for c in found]))
    else:
        click.echo(pv.warranty_text(found, horizon.days, obj.lang))


COMMANDS = (inspections_group, followups_group, warranty_command)
