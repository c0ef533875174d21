"""What `monitord inspections|followups|warranty` print, and the API's JSON of the same.

Dicts carry UTC ISO-8601 instants plus `*_local` copies on the site's clock; the text is
in Chinese or English (labels of checklist items too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from monitord.config.models import Config, Site
from monitord.present import i18n
from monitord.present.devices import local, table
from monitord.present.i18n import PREVENTION
from monitord.prevention import followups
from monitord.prevention.inspections import item_label
from monitord.prevention.warranty import Coverage
from monitord.store.records import FollowUpVisit, InspectionResult, InspectionTask


def w(key: str, lang: str) -> str:
    return i18n.word(PREVENTION, key, lang)


def _tz(config: Config, site: str) -> str:
    return next((s.timezone for s in config.sites if s.id == site), "UTC")


def _iso(instant: dt.datetime | None, tz: str) -> tuple[str | None, str | None]:
    if instant is None:
        return None, None
    return instant.isoformat(), instant.astimezone(ZoneInfo(tz)).isoformat()


def task_dict(
    config: Config,
    task: InspectionTask,
    results: Sequence[InspectionResult] | None,
    now: dt.datetime,
) -> dict[str, Any]:
    tz = _tz(config, task.site_id)
    due, due_local = _iso(task.due_at, tz)
    done, done_local = _iso(task.completed_at, tz)
    data: dict[str, Any] = {
        "id": task.id, "contract": task.contract, "site": task.site_id, "kind": task.kind,
        "plan": task.plan, "period": task.period, "due_at": due, "due_at_local": due_local,
        "completed_at": done, "completed_at_local": done_local,
        "state": "done" if task.completed_at else ("overdue" if task.overdue(now) else "open"),
        "items": [dict(i) for i in task.items],
    }  # fmt: skip
    if results is not None:
        data["results"] = [
            {
                "item": r.item,
                "result": r.result,
                "device": r.device_id,
                "note": r.note,
                "by": r.by,
                "at": r.at.isoformat(),
                "ticket": r.ticket_id,
            }
            for r in results
        ]
        data["failed"] = sorted({r.item for r in _latest(results) if r.result == "fail"})
    return data


def _latest(results: Sequence[InspectionResult]) -> list[InspectionResult]:
    latest: dict[tuple[str, str | None], InspectionResult] = {}
    for r in results:
        latest[(r.item, r.device_id)] = r
    return list(latest.values())


def tasks_text(config: Config, tasks: Sequence[InspectionTask], now: dt.datetime, lang: str) -> str:
    if not tasks:
        return w("no_tasks", lang)
    rows = []
    for t in tasks:
        state = "done" if t.completed_at else ("overdue" if t.overdue(now) else "open")
        rows.append([str(t.id), t.site_id, i18n.t(t.kind, lang), t.period,
                     local(t.due_at, _tz(config, t.site_id)),
                     w(state, lang), str(len(t.items))])  # fmt: skip
    head = [w(k, lang) for k in ("id", "site", "kind", "period", "due", "state", "items")]
    return table(head, rows)


def task_text(
    config: Config, task: InspectionTask, results: Sequence[InspectionResult], lang: str,
    now: dt.datetime,
) -> str:  # fmt: skip
    tz = _tz(config, task.site_id)
    data = task_dict(config, task, results, now)
    latest = {r.item: r for r in _latest(results)}
    rows = []
    for i in task.items:
        r = latest.get(i["id"])
        rows.append([i["id"], item_label(task, i["id"], lang),
                     w(r.result, lang) if r else w("not_yet", lang),
                     (r.device_id or "") if r else "", r.note if r else "",
                     f"#{r.ticket_id}" if r and r.ticket_id else ""])  # fmt: skip
    title = f"#{task.id}  {task.site_id}  {i18n.t(task.kind, lang)}  {task.period}"
    due = f"{w('due', lang)}: {local(task.due_at, tz)}"
    head = [f"{title}  ({task.contract}, {task.plan})",
            f"{due}  {w('state', lang)}: {w(data['state'], lang)}", ""]  # fmt: skip
    cols = [w(k, lang) for k in ("id", "item", "result", "device", "note", "ticket")]
    return "\n".join([*head, table(cols, rows)])


def followups_dicts(
    config: Config,
    visits: Sequence[FollowUpVisit],
    now: dt.datetime,
    site: str | None = None,
    ticket_status: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Per site owing visits: its windows up to now with their state, and its visits (with
    the status of the ticket a quality problem opened: the handling result, 处理结果)."""
    statuses = ticket_status or {}
    out = []
    for s in config.sites:
        cadence = followups.cadence_of(config, s)
        if cadence is None or s.acceptance_date is None or site not in (None, s.id):
            continue
        mine = [v for v in visits if v.site_id == s.id]
        states = followups.site_states(s, cadence, mine, now)
        out.append({
            "site": s.id, "contract": s.contract, "acceptance_date": s.acceptance_date.isoformat(),
            "cadence_months": {"first_year": cadence.first_year, "after": cadence.after},
            "current": _window(states[-1]) if states else None,
            "missed": sum(1 for x in states if x.state == "overdue"),
            "windows": [_window(x) for x in states],
            "visits": [visit_dict(s, v, statuses.get(v.ticket_id or 0)) for v in mine],
        })  # fmt: skip
    return out


def _window(state: followups.WindowState) -> dict[str, Any]:
    return {"start": state.window.start.isoformat(), "end": state.window.end.isoformat(),
            "state": state.state, "visits": [v.id for v in state.visits]}  # fmt: skip


def visit_dict(site: Site, v: FollowUpVisit, ticket_status: str | None = None) -> dict[str, Any]:
    at, at_local = _iso(v.visited_at, site.timezone)
    return {
        "id": v.id, "site": v.site_id, "contract": v.contract, "visited_at": at,
        "visited_at_local": at_local, "by": v.by, "contact": v.contact,
        "attitude": v.attitude, "responsibility": v.responsibility, "effect": v.effect,
        "score": v.score, "problems": v.problems, "suggestions": v.suggestions,
        "quality_problem": v.quality_problem, "ticket": v.ticket_id,
        "ticket_status": ticket_status,
    }  # fmt: skip


def followups_text(sites: Sequence[dict[str, Any]], lang: str) -> str:
    if not sites:
        return w("no_sites", lang)
    rows = []
    for s in sites:
        current = s["current"]
        window = (f"{current['start']}..{current['end']} {w(current['state'] if current['state'] != 'due' else 'due_state', lang)}"
                  if current else w("none", lang))  # fmt: skip
        last = s["visits"][-1] if s["visits"] else None
        rows.append([s["site"], s["acceptance_date"], window, str(s["missed"]),
                     last["visited_at_local"][:16] if last else w("none", lang),
                     str(last["score"]) if last and last["score"] is not None else "-"])  # fmt: skip
    cols = ("site", "accepted", "window", "missed", "last_visit", "score")
    return table([w(k, lang) for k in cols], rows)


def coverage_dict(c: Coverage) -> dict[str, Any]:
    return {
        "device": c.device, "name": c.name, "site": c.site,
        "warranty_end": c.end.isoformat() if c.end else None, "source": c.source,
        "project_end": c.project_end.isoformat() if c.project_end else None,
        "manufacturer_end": c.manufacturer_end.isoformat() if c.manufacturer_end else None,
    }  # fmt: skip


def warranty_text(found: Sequence[Coverage], within_days: int, lang: str) -> str:
    if not found:
        return f"{w('no_expiry', lang)} {within_days} d"
    rows = [[c.site, c.device, c.name, str(c.end), w(c.source or "none", lang)] for c in found]
    return table([w(k, lang) for k in ("site", "device", "name", "ends", "source")], rows)
