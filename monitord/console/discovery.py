"""The site's "Discover" page for dispatchers and managers: start a run, watch it live (the
wallboard's SSE feed; a meta refresh without JS), review its change set with the evidence of
each change, and apply the picked ones into devices.d/<site>.yaml - the daemon reloads it.

The run and the apply are discovery/plan.py's, as `monitord discover --apply` runs them;
where the run happens is discovery/runner.py's: here for a `local` site, at the site's
poller otherwise (through the command channel, sites/commands.py). A poller that cannot take
a run now (unknown, revoked, silent, too old) is named on the page before anyone presses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from monitord import log
from monitord.config.models import Site
from monitord.console import device_view, wallboard
from monitord.console.accounts import Role, Session
from monitord.console.discovery_desk import RUNNING, ApplyRefused, DiscoveryDesk, Run
from monitord.console.web import (
    Console,
    app_shared,
    commands_of,
    console_of,
    fragment,
    guard,
    lang_of,
    posted,
    render,
)
from monitord.discovery import ledger
from monitord.discovery.apply import ApplyError
from monitord.discovery.plan import PlanError, plan, writable
from monitord.discovery.propose import Item
from monitord.discovery.runner import Runner, runner_for
from monitord.present import i18n
from monitord.present.evidence import evidence
from monitord.sites.commands import Refused

_log = log.get("monitord.console")
WHO: Final = frozenset({Role.DISPATCHER, Role.MANAGER})
BASE: Final = "/console/discovery/{site}"
ROUTES: Final = {
    ("GET", BASE): WHO,
    ("GET", BASE + "/stream"): WHO,
    ("POST", BASE + "/start"): WHO,
    ("POST", BASE + "/cancel"): WHO,
    ("POST", BASE + "/apply"): WHO,
}
_NOTICES: Final = ("started", "running", "cancelled", "disc_stale", "disc_pick_none",
                   "apply_failed", "unavailable")  # fmt: skip
# Module level: with postponed annotations FastAPI resolves these names in module globals.
SEE = Depends(guard(*WHO))
FORM = Depends(posted(*WHO))
# A change set's form: a checkbox per change, more fields than a console form's 16 kB allow.
PICKS = Depends(posted(*WHO, limit=256 * 1024))
POLL: Final = 0.5  # seconds between progress frames: counters move fast


@dataclass(frozen=True, slots=True)
class Change:
    n: int  # its index in the run's change set: the checkbox `pick-<n>`
    kind: str  # the console word's suffix: new, address, ..., parent_wrong
    item: Item
    writable: bool
    notes: tuple[str, ...]
    evidence: str  # the item's detail in the reader's language


def desk_of(request: Request) -> DiscoveryDesk:
    return app_shared(
        request, "console_discovery", lambda: DiscoveryDesk(console_of(request).store)
    )


def runner(request: Request, site: Site) -> Runner:
    return runner_for(site, console_of(request).store, commands_of(request))


async def why_not(request: Request, console: Console, site: Site) -> str:
    """The console word for why this site cannot be discovered from here now, or ''."""
    if site.discovery is None:
        return "disc_not_configured"
    if not runner(request, site).available:
        return "disc_at_poller"
    commands = commands_of(request)
    if site.poller != "local" and commands is not None:
        try:
            await commands.check(site.poller)
        except Refused as exc:
            return exc.reason
    if console.host is None:
        return "disc_no_daemon"
    return ""


def said(key: str, lang: str) -> str:
    """A run's failure in the reader's words: the command channel's or the CLI's."""
    return i18n.word(i18n.CONSOLE, key, lang) if key in i18n.CONSOLE else i18n.t(key, lang)


def changes(run: Run, lang: str) -> list[Change]:
    out = []
    for n, item in enumerate(run.items or ()):
        notes = tuple(i18n.t(note, lang) for note in item.notes)
        out.append(Change(n, item.change, item, writable(item), notes, evidence(item, lang)))
    return out


def _instant(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None  # shown as "-"


def _site(request: Request, session: Session, site_id: str) -> Site:
    found = device_view.site_of(console_of(request).config(), session.user, site_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
    return found


def _back(site: str, notice: str = "") -> RedirectResponse:
    query = f"?done={notice}" if notice else ""
    return RedirectResponse(f"/console/discovery/{site}{query}", status.HTTP_303_SEE_OTHER)


def discovery_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)
    path = BASE.removeprefix("/console")

    @r.get(path)
    async def page(request: Request, site: str, session: Annotated[Session, SEE]) -> Response:
        console, found = console_of(request), _site(request, session, site)
        run, lang = await desk_of(request).recall(found.id), lang_of(request)
        notice = request.query_params.get("done", "")
        config = console.config()
        applied = await asyncio.to_thread(ledger.recent, config.state_dir, found.id)
        for entry in applied:
            entry["at"] = _instant(entry.get("at"))
        values = {
            "site": found, "run": run, "reason": await why_not(request, console, found),
            "poller": found.poller, "notice": notice if notice in _NOTICES else "",
            "failure": said(run.reason, lang) if run and run.reason else "",
            "changes": changes(run, lang) if run else [], "applied": applied,
            "running": run is not None and run.state == RUNNING,
        }  # fmt: skip
        return render(request, "discovery.html", session, values)

    @r.get(path + "/stream")
    async def stream(request: Request, site: str, session: Annotated[Session, SEE]) -> Response:
        console, found = console_of(request), _site(request, session, site)
        desk, lang = desk_of(request), lang_of(request)

        async def frame() -> str | None:
            run = desk.current(found.id)
            if run is None or run.state != RUNNING:
                return None
            return fragment("_discovery_progress.html", lang, {"run": run}, console)

        return StreamingResponse(
            wallboard.feed(request, console, frame, POLL),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    @r.post(path + "/start")
    async def start(
        request: Request,
        site: str,
        posted_: Annotated[tuple[Session, dict[str, str]], FORM],
    ) -> Response:
        session = posted_[0]
        console, found = console_of(request), _site(request, session, site)
        if await why_not(request, console, found) or console.host is None:
            return _back(found.id, "unavailable")
        try:
            p = plan(console.config(), found.id)
        except PlanError:
            return _back(found.id, "unavailable")
        run, new = desk_of(request).start(
            p, runner(request, found), console.host, console.clock.now, session.user.name
        )
        if new:
            _log.info("discovery run via console", site=found.id, run=run.id,
                      user=session.user.name, where=run.where)  # fmt: skip
        return _back(found.id, "started" if new else "running")

    @r.post(path + "/cancel")
    async def cancel(
        request: Request,
        site: str,
        posted_: Annotated[tuple[Session, dict[str, str]], FORM],
    ) -> Response:
        found = _site(request, posted_[0], site)
        return _back(found.id, "cancelled" if desk_of(request).cancel(found.id) else "")

    @r.post(path + "/apply")
    async def apply(
        request: Request,
        site: str,
        posted_: Annotated[tuple[Session, dict[str, str]], PICKS],
    ) -> Response:
        session, fields = posted_
        console, found = console_of(request), _site(request, session, site)
        if console.host is None:
            return _back(found.id, "unavailable")
        picks = [int(k[5:]) for k in fields if k.startswith("pick-") and k[5:].isdigit()]
        principal = {"console_user": session.user.name, "role": session.user.role.value}
        try:
            await desk_of(request).apply(found.id, fields.get("run", ""), picks, console.host,
                                         console.config(), principal)  # fmt: skip
        except ApplyRefused as exc:
            return _back(found.id, str(exc))
        except ApplyError as exc:
            run = desk_of(request).current(found.id)
            if run is not None:
                run.error = str(exc)[:500]  # names the file and the issue; holds no secret
            return _back(found.id, "apply_failed")
        return _back(found.id)

    return r
