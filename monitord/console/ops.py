"""The dispatcher's and manager's desk: who is on call now and next per site, inspections
and follow-up visits owed or overdue, maintenance windows (start now, end now) and the
monthly report of a contract.

Reads come from the modules that own them (notify/oncall.py, prevention/, reports/); a
window is started and ended as `monitord maintenance start|end` does it (prevention/adhoc.py,
store.windows), with the signed-in user as its author.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitord import log
from monitord.config import Config
from monitord.config.durations import parse_duration
from monitord.console.accounts import Session
from monitord.console.routes import form_of, who
from monitord.console.web import console_of, lang_of, render
from monitord.notify.oncall import Directory, shift
from monitord.present import prevention as pv
from monitord.prevention.adhoc import BadWindow, start_window
from monitord.reports import html
from monitord.reports.service import ReportInputError, monthly_document
from monitord.store import Store
from monitord.store.records import WindowRecord

_log = log.get("monitord.console")
_NOTICES = ("window_started", "window_ended", "window_bad", "window_none")
_RECENT = dt.timedelta(days=1)  # ended windows still listed


@dataclass(frozen=True, slots=True)
class Duty:
    site_id: str
    site_name: str
    contract: str
    rotation: str | None
    now: str | None  # display names
    until: dt.datetime | None
    next: str | None
    tz: str


@dataclass(frozen=True, slots=True)
class OpsView:
    duties: tuple[Duty, ...]
    inspections: tuple[dict[str, Any], ...]  # open or overdue tasks (present/prevention.py)
    followups: tuple[dict[str, Any], ...]  # sites whose current window is owed or missed
    windows: tuple[tuple[WindowRecord, str, str], ...]  # (window, state, zone)


def duties(config: Config, now: dt.datetime) -> list[Duty]:
    directory = Directory.from_config(config)
    shifts = {r.id: shift(r, o, now) for r, o in directory.rotations}

    def name(person: str | None) -> str | None:
        found = directory.people.get(person or "")
        return found.name if found else person

    out = []
    for s in config.sites:
        found = directory.rotation_for(s.contract or "", s.id)
        sh = shifts[found[0].id] if found else None
        out.append(Duty(s.id, s.name, s.contract or "-", found[0].id if found else None,
                        name(sh.person) if sh else None, sh.end if sh else None,
                        name(sh.next_person) if sh else None, s.timezone))  # fmt: skip
    return out


def view(store: Store, config: Config, now: dt.datetime) -> OpsView:
    tasks = store.inspections.tasks(None, None, None, None, True)
    inspections = [pv.task_dict(config, t, None, now) for t in tasks]
    visits = store.followups.visits(None, None)
    owed = [f for f in pv.followups_dicts(config, visits, now)
            if f["missed"] or (f["current"] and f["current"]["state"] != "done")]  # fmt: skip
    zones = {s.id: s.timezone for s in config.sites}
    sites_of = {d.id: d.site for d in config.devices}
    windows = []
    for w in store.windows.ending_after(now - _RECENT):
        state = "active" if w.starts_at <= now < w.ends_at else "ahead" if now < w.starts_at \
            else "over"  # fmt: skip
        zone = zones.get(w.site_id or sites_of.get(w.device_id or "", ""), "UTC")
        windows.append((w, state, zone))
    return OpsView(tuple(duties(config, now)), tuple(inspections), tuple(owed), tuple(windows))


def add_routes(r: APIRouter) -> None:
    """Onto the console's router (its prefix, its table of routes: ROUTES)."""

    @r.get("/ops")
    async def ops_page(
        request: Request, session: Annotated[Session, who("GET", "/ops")], done: str = ""
    ) -> Response:
        console = console_of(request)
        config = console.config()
        found = await asyncio.to_thread(view, console.store, config, console.clock.now())
        values = {"v": found, "notice": done if done in _NOTICES else "",
                  "sites": config.sites, "contracts": config.contracts,
                  "month": console.clock.now().strftime("%Y-%m")}  # fmt: skip
        return render(request, "ops.html", session, values)

    def back(notice: str) -> Response:
        return RedirectResponse(f"/console/ops?done={notice}#windows", status.HTTP_303_SEE_OTHER)

    @r.post("/ops/windows")
    async def window_start(
        request: Request,
        posted_: Annotated[tuple[Session, dict[str, str]], form_of("/ops/windows")],
    ) -> Response:
        session, fields = posted_
        console = console_of(request)
        config = console.config()
        reason = fields.get("reason", "").strip()[:500]
        site, device = fields.get("site", "").strip(), fields.get("device", "").strip()
        now = console.clock.now()
        try:
            length = parse_duration(fields.get("length", "").strip())
            if not reason:
                raise BadWindow("reason", "say what is being done")
            w = await asyncio.to_thread(
                lambda: start_window(config, console.store, device=device or None,
                                     site=site or None, kind=None, start=now, length=length,
                                     reason=reason, by=session.user.name, now=now)
            )  # fmt: skip
        except (BadWindow, ValueError) as exc:
            _log.info("maintenance window refused via console", error=str(exc)[:200])
            return back("window_bad")
        _log.info("maintenance window via console", window=w.id, user=session.user.name)
        return back("window_started")

    @r.post("/ops/windows/{window_id}/end")
    async def window_end(
        request: Request,
        window_id: int,
        posted_: Annotated[tuple[Session, dict[str, str]], form_of("/ops/windows/{window_id}/end")],
    ) -> Response:
        session, fields = posted_
        console = console_of(request)
        w = await asyncio.to_thread(console.store.windows.end, window_id, console.clock.now())
        if w is None:
            return back("window_none")
        _log.info("maintenance window ended via console", window=w.id, user=session.user.name,
                  reason=fields.get("reason", "")[:500])  # fmt: skip
        return back("window_ended")

    @r.get("/ops/monthly")
    async def monthly(
        request: Request,
        session: Annotated[Session, who("GET", "/ops/monthly")],
        contract: str = "",
        month: str = "",
    ) -> Response:
        # The manager's view of the monthly report (R2): the same document as the API's.
        console = console_of(request)
        config = console.config()
        if contract not in {c.id for c in config.contracts}:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "contract")
        try:
            doc = await asyncio.to_thread(monthly_document, console.store, config, contract,
                                          month, lang_of(request), console.clock.now())  # fmt: skip
        except ReportInputError:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "month") from None
        page = HTMLResponse(html.render(doc))
        page.headers["cache-control"] = "no-store"
        page.headers["x-frame-options"] = "DENY"
        return page
