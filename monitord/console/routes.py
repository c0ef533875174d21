"""The console's routes and who may use each (ROUTES: the table the authorisation test walks).

Nothing acts on GET: every change is a POST with the session's CSRF token, answered by a
redirect (post/redirect/get), so a reload or a link pre-fetcher repeats nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from monitord import log
from monitord.console import (
    actions,
    discovery,
    monthly,
    oauth,
    signoff,
    survey,
    views,
    wallboard,
    work,
)
from monitord.console.accounts import AccountError, Role, Session
from monitord.console.links import Links
from monitord.console.offline import offline_router
from monitord.console.web import (
    COOKIE,
    LANG_COOKIE,
    LOGIN_CSRF,
    Console,
    SignInFirst,
    client_of,
    console_of,
    current,
    form,
    guard,
    lang_of,
    posted,
    render,
    set_cookie,
)
from monitord.notify.messages import Routing
from monitord.store import ActiveTicketExists, RepeatedAction
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind, InvalidTransition, Status

_log = log.get("monitord.console")
ALL = frozenset(Role)
WORKERS = frozenset({Role.ENGINEER, Role.MANAGER})  # who works tickets
WATCHERS = frozenset({Role.DISPATCHER, Role.MANAGER})
STAFF = frozenset({Role.ENGINEER, Role.DISPATCHER, Role.MANAGER})  # probe now
REPORTERS = frozenset({Role.CUSTOMER, Role.DISPATCHER, Role.MANAGER})  # a fault call (报修)
# (method, path) -> the roles that may use it; routes not here are public (sign-in, assets).
ROUTES: Final[dict[tuple[str, str], frozenset[Role]]] = {
    ("GET", "/console/"): ALL,
    ("POST", "/console/logout"): ALL,
    ("POST", "/console/logout/everywhere"): ALL,
    ("GET", "/console/mine"): WORKERS,
    ("GET", "/console/tickets"): ALL,
    ("GET", "/console/tickets/{ticket_id}"): ALL,
    ("POST", "/console/tickets/{ticket_id}/act"): WORKERS,
    **signoff.ROUTES,  # the customer's sign-off (console/signoff.py)
    **survey.ROUTES,  # the follow-up survey (console/survey.py)
    **monthly.ROUTES,  # the monthly report (console/monthly.py)
    ("POST", "/console/tickets/{ticket_id}/assign"): WATCHERS,
    ("GET", "/console/report"): REPORTERS,
    ("POST", "/console/report"): REPORTERS,
    ("GET", "/console/wallboard"): WATCHERS,
    ("GET", "/console/wallboard/stream"): WATCHERS,
    # device page and dispatcher views (console/devices.py, console/ops.py)
    ("GET", "/console/devices/{site}"): ALL,  # the site's devices
    ("GET", "/console/devices/{site}/{device}"): ALL,  # a customer: their sites' devices
    ("POST", "/console/devices/{site}/{device}/probe"): STAFF,
    ("GET", "/console/ops"): WATCHERS,
    ("POST", "/console/ops/windows"): WATCHERS,
    ("POST", "/console/ops/windows/{window_id}/end"): WATCHERS,
    ("GET", "/console/ops/monthly"): WATCHERS,
    **work.ROUTES,  # the engineer's work forms, pause/resume and photos (console/work.py)
    **discovery.ROUTES,  # a site's discovery runs and their proposals (console/discovery.py)
}
# A one-time link (console/links.py) is its own proof: it needs no session.
PUBLIC: Final = {("GET", "/console/login"), ("POST", "/console/login"),
                 ("GET", "/console/lang/{code}"), ("GET", "/console/t/{token}"),
                 ("POST", "/console/t/{token}"),
                 ("GET", "/console/sw.js")} | signoff.PUBLIC | survey.PUBLIC | oauth.PUBLIC  # fmt: skip
HOME = {Role.ENGINEER: "/console/mine", Role.MANAGER: "/console/wallboard",
        Role.DISPATCHER: "/console/wallboard", Role.CUSTOMER: "/console/tickets"}  # fmt: skip


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER)


def _allowed(method: str, path: str) -> tuple[Role, ...]:
    return tuple(ROUTES[(method, path)])


# Module level: with postponed annotations FastAPI resolves these names in module globals.
def who(method: str, path: str) -> Any:
    """The dependency of a GET (or a POST without a form): the session, by ROUTES."""
    return Depends(guard(*_allowed(method, "/console" + path)))


def form_of(path: str) -> Any:
    """The dependency of a form POST: the session and its CSRF-checked form, by ROUTES."""
    return Depends(posted(*_allowed("POST", "/console" + path)))


def mount_console(app: FastAPI, console: Console) -> None:
    app.state.console = console
    app.include_router(console_router())
    app.include_router(work.work_router())
    app.include_router(offline_router())
    app.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "static"),
              name="console-static")  # fmt: skip

    @app.exception_handler(SignInFirst)
    async def sign_in_first(_: Request, __: SignInFirst) -> Response:
        return _see_other("/console/login")

    # A phone's offline queue sent an action again: the first outcome, nothing written.
    app.add_exception_handler(RepeatedAction, actions.answer_repeat)  # type: ignore[arg-type]


def console_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)
    # Each area's own router (its own prefix "/console"): its routes join this one's, so
    # the route-table test walks them too (include_router would nest them out of its sight).
    areas = (signoff.signoff_router(), survey.survey_router(), monthly.monthly_router(),
             oauth.oauth_router(), discovery.discovery_router())  # fmt: skip
    for area in areas:
        r.routes.extend(area.routes)

    @r.get("/")
    async def home(session: Annotated[Session, who("GET", "/")]) -> Response:
        return _see_other(HOME[session.user.role])

    @r.get("/login")
    async def login_page(request: Request, error: str = "") -> Response:
        console_of(request)
        if await current(request) is not None:
            return _see_other("/console/")
        token = secrets.token_urlsafe(24)
        known = error if error in ("bad_login", "locked", "slow_down", "expired") else ""
        here, others = oauth.buttons(request, console_of(request).config().console.oauth)
        values = {"csrf": token, "error": known, "in_app": here, "providers": others}
        response = render(request, "login.html", None, values, 401 if known else 200)
        set_cookie(response, request.app.state.console, LOGIN_CSRF, token, 3600)
        return response

    @r.post("/login")
    async def login(request: Request) -> Response:
        console = console_of(request)
        fields = await form(request)
        expected = request.cookies.get(LOGIN_CSRF, "")
        if not expected or not secrets.compare_digest(fields.get("csrf", ""), expected):
            return _see_other("/console/login?error=expired")
        now, settings = console.clock.now(), console.config().console
        if not console.limiter.allow(client_of(request), now, settings.attempts_per_minute):
            return _see_other("/console/login?error=slow_down")
        name, password = fields.get("name", "").strip(), fields.get("password", "")
        try:
            token, session = await asyncio.to_thread(
                console.accounts().sign_in, name, password, now
            )
        except AccountError as exc:
            _log.info("console sign-in refused", user=name[:64], client=client_of(request))
            return _see_other(
                "/console/login?error=" + ("locked" if "later" in str(exc) else "bad_login")
            )
        _log.info("console sign-in", user=session.user.name, role=session.user.role.value)
        response = _see_other(HOME[session.user.role])
        set_cookie(response, console, COOKIE, token, int(settings.session_ttl.total_seconds()))
        response.delete_cookie(LOGIN_CSRF, path="/console")
        return response

    async def sign_out(request: Request, session: Session, everywhere: bool) -> Response:
        console = console_of(request)
        await asyncio.to_thread(console.accounts().sign_out, session, everywhere)
        response = _see_other("/console/login")
        response.delete_cookie(COOKIE, path="/console")
        return response

    @r.post("/logout")
    async def logout(
        request: Request, posted_: Annotated[tuple[Session, dict[str, str]], form_of("/logout")]
    ) -> Response:
        return await sign_out(request, posted_[0], everywhere=False)

    @r.post("/logout/everywhere")
    async def logout_everywhere(
        request: Request,
        posted_: Annotated[tuple[Session, dict[str, str]], form_of("/logout/everywhere")],
    ) -> Response:
        return await sign_out(request, posted_[0], everywhere=True)

    @r.get("/lang/{code}")
    async def language(request: Request, code: str, next: str = "/console/") -> Response:
        # A preference cookie, nothing on the server: safe on GET, and works without JS.
        console = console_of(request)
        target = next if next.startswith("/console/") and "//" not in next else "/console/"
        response = _see_other(target)
        if code in ("zh", "en"):
            set_cookie(response, console, LANG_COOKIE, code, 365 * 86400)
        return response

    @r.get("/t/{token}")
    async def link_page(request: Request, token: str) -> Response:
        # Shows the ticket and a button; uses nothing, does nothing (pre-fetchers GET this).
        console = console_of(request)
        now = console.clock.now()
        links = Links(console.store, console.config().console, console.clock.now)
        found = await asyncio.to_thread(links.peek, token, now)
        if found is None:
            return render(request, "link.html", None, {"t": None, "csrf": ""}, 410)
        ticket = await asyncio.to_thread(console.store.tickets.get, found.ticket_id)
        if ticket is None:
            return render(request, "link.html", None, {"t": None, "csrf": ""}, 410)
        csrf = secrets.token_urlsafe(24)
        t = views.view(console.config(), ticket[0], ticket[1], now)
        worker = Role(found.user.role) in WORKERS
        values = {"t": t, "csrf": csrf, "who": found.user.display_name,
                  "ack": worker and ticket[0].status == Status.OPEN.value}  # fmt: skip
        response = render(request, "link.html", None, values)
        response.headers["referrer-policy"] = "no-referrer"  # the token is in the URL
        set_cookie(response, console, LOGIN_CSRF, csrf, 3600)
        return response

    @r.post("/t/{token}")
    async def link_use(request: Request, token: str) -> Response:
        console = console_of(request)
        fields = await form(request)
        expected = request.cookies.get(LOGIN_CSRF, "")
        if not expected or not secrets.compare_digest(fields.get("csrf", ""), expected):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "csrf")
        action = fields.get("action", "")
        if action not in ("open", "ack"):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "action")
        now = console.clock.now()
        links = Links(console.store, console.config().console, console.clock.now)
        used = await asyncio.to_thread(links.redeem, token, now)
        if used is None:
            return render(request, "link.html", None, {"t": None, "csrf": ""}, 410)
        record, ticket_id = used
        cookie, session = await asyncio.to_thread(console.accounts().open_session, record, now)
        _log.info("console sign-in by link", user=record.name, ticket=ticket_id)
        target = f"/console/tickets/{ticket_id}"
        if action == "ack" and session.user.role in WORKERS:
            refused = await append(request, session, ticket_id, EventKind.ACKNOWLEDGED, "",
                                   {"via": "link"})  # fmt: skip
            target += "?done=not_now" if refused else "?done=done"
        response = _see_other(target)
        ttl = int(console.config().console.session_ttl.total_seconds())
        set_cookie(response, console, COOKIE, cookie, ttl)
        response.delete_cookie(LOGIN_CSRF, path="/console")
        return response

    @r.get("/mine")
    async def mine(
        request: Request, session: Annotated[Session, who("GET", "/mine")], page: int = 1
    ) -> Response:
        console = console_of(request)
        found = await asyncio.to_thread(
            views.mine, console.store, console.config(), session.user, console.clock.now()
        )
        shown = views.page_of(found, page, "/console/mine", {})
        return render(request, "list.html", session,
                      {"title": "mine", "tickets": shown.items, "pager": shown})  # fmt: skip

    @r.get("/tickets")
    async def ticket_list(
        request: Request,
        session: Annotated[Session, who("GET", "/tickets")],
        site: str = "",
        cls: str = "",
        status: str = "",
        page: int = 1,
    ) -> Response:
        # A GET form: filtering reads, it never changes anything.
        console = console_of(request)
        config = console.config()
        sites = views.sites_of(config, session.user)
        filters = views.Filters(
            site if any(s.id == site for s in sites) else "",
            cls if cls in views.CLASSES else "",
            status if status in views.STATUSES else "",
        )
        found = await asyncio.to_thread(views.visible, console.store, config, session.user,
                                        console.clock.now(), filters)  # fmt: skip
        kept = {"site": filters.site, "cls": filters.ticket_class, "status": filters.status}
        shown = views.page_of(found, page, "/console/tickets", kept)
        values = {"title": "tickets", "tickets": shown.items, "pager": shown, "filters": filters,
                  "sites": sites, "classes": views.CLASSES, "statuses": views.STATUSES}  # fmt: skip
        return render(request, "list.html", session, values)

    async def visible(request: Request, session: Session, ticket_id: int) -> views.TicketView:
        """The ticket as `session` may see it; 404 for none or another tenant's."""
        console = console_of(request)
        found = await asyncio.to_thread(views.one, console.store, console.config(),
                                        session.user, ticket_id, console.clock.now())  # fmt: skip
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        return found

    async def page(
        request: Request, session: Session, ticket_id: int, notice: str = "", code: int = 200
    ) -> Response:
        found = await visible(request, session, ticket_id)
        st = Status(found.ticket.status)
        offered = [a for a, (_, where) in work.STEPS.items() if st in where]
        if found.en_route and "onway" in offered:
            offered.remove("onway")
        watcher = session.user.role in WATCHERS
        staff = (
            await asyncio.to_thread(views.engineers, console_of(request).store) if watcher else []
        )
        values = {"t": found, "offered": offered, "notice": notice, "status": st.value,
                  "engineers": staff, "steps": work.path()}  # fmt: skip
        return render(request, "ticket.html", session, values, code)

    @r.get("/tickets/{ticket_id}")
    async def ticket_page(
        request: Request,
        ticket_id: int,
        session: Annotated[Session, who("GET", "/tickets/{ticket_id}")],
        done: str = "",
    ) -> Response:
        shown = ("done", "approved", "rejected", "not_now", "reported", "assigned")
        notice = done if done in shown else ""
        return await page(request, session, ticket_id, notice)

    async def append(
        request: Request, session: Session, ticket_id: int, kind: EventKind, text: str,
        data: dict[str, object], sent: actions.Sent = actions.UNSENT,
    ) -> str | None:  # fmt: skip
        """Append as the signed-in user; None, or why the ticket's status refuses it.
        RepeatedAction (answered by actions.answer_repeat) if `sent`'s key is recorded."""
        console = console_of(request)
        principal = {"console_user": session.user.name, "role": session.user.role.value}
        try:
            await asyncio.to_thread(tickets.append, console.store, ticket_id, kind,
                                    session.user.name, console.clock.now(), text[:4000],
                                    {**data, **principal},
                                    Routing.from_config(console.config()),
                                    sent.idem, sent.taken_at)  # fmt: skip
        except (InvalidTransition, ActiveTicketExists) as exc:
            return str(exc)
        _log.info("ticket event via console", ticket=ticket_id, kind=kind.value,
                  user=session.user.name)  # fmt: skip
        return None

    @r.post("/tickets/{ticket_id}/act")
    async def act(
        request: Request,
        ticket_id: int,
        posted_: Annotated[tuple[Session, dict[str, str]], form_of("/tickets/{ticket_id}/act")],
    ) -> Response:
        session, fields = posted_
        await visible(request, session, ticket_id)  # 404 before anything is posted
        sent = actions.sent(fields)
        await actions.refuse_repeat(request, sent)
        action = fields.get("action", "")
        if action not in work.STEPS:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "action")
        kind, _ = work.STEPS[action]
        note = fields.get("note", "").strip()
        data: dict[str, object] = {"milestone": views.EN_ROUTE} if action == "onway" else {}
        text = note or ("on my way" if action == "onway" else "")
        refused = await append(request, session, ticket_id, kind, text, data, sent)
        if refused is not None:
            return await page(request, session, ticket_id, "not_now", status.HTTP_409_CONFLICT)
        return _see_other(f"/console/tickets/{ticket_id}?done=done")

    @r.post("/tickets/{ticket_id}/assign")
    async def assign(
        request: Request,
        ticket_id: int,
        posted_: Annotated[tuple[Session, dict[str, str]], form_of("/tickets/{ticket_id}/assign")],
    ) -> Response:
        session, fields = posted_
        await visible(request, session, ticket_id)  # 404 before anything is posted
        sent = actions.sent(fields)
        await actions.refuse_repeat(request, sent)
        engineer = fields.get("engineer", "")
        staff = dict(await asyncio.to_thread(views.engineers, console_of(request).store))
        if engineer not in staff:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "engineer")
        refused = await append(request, session, ticket_id, EventKind.ASSIGNED,
                               f"{staff[engineer]} ({engineer})", {"engineer": engineer},
                               sent)  # fmt: skip
        if refused is not None:
            return await page(request, session, ticket_id, "not_now", status.HTTP_409_CONFLICT)
        return _see_other(f"/console/tickets/{ticket_id}?done=assigned")

    @r.get("/report")
    async def report_page(
        request: Request, session: Annotated[Session, who("GET", "/report")]
    ) -> Response:
        return report_form(request, session, "", {})

    def report_form(
        request: Request, session: Session, error: str, fields: dict[str, str], code: int = 200
    ) -> Response:
        sites = views.sites_of(console_of(request).config(), session.user)
        values = {"sites": sites, "error": error, "fields": fields}
        return render(request, "report.html", session, values, code)

    @r.post("/report")
    async def report(
        request: Request,
        posted_: Annotated[tuple[Session, dict[str, str]], form_of("/report")],
    ) -> Response:
        # The hotline path (T4): the first-reply clock starts and the on-call engineer is
        # paged, in the same write as the ticket (ticketing/tickets.py).
        session, fields = posted_
        console = console_of(request)
        config = console.config()
        site = next((s for s in views.sites_of(config, session.user)
                     if s.id == fields.get("site")), None)  # fmt: skip
        text = fields.get("text", "").strip()[:4000]
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        if "site" in fields and site is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")  # not theirs: no hint
        if site is None:
            return report_form(request, session, "report_needs_site", fields, code)
        if not text:
            return report_form(request, session, "report_needs_text", fields, code)
        contract = next(c for c in config.contracts if c.id == site.contract)
        principal = {"console_user": session.user.name, "role": session.user.role.value}
        sent = actions.sent(fields)  # a key sent again finds the ticket it opened
        ticket = await asyncio.to_thread(tickets.open_hotline, console.store, contract, site.id,
                                         session.user.name, text, console.clock.now(),
                                         messages=Routing.from_config(config),
                                         signature=principal, idem=sent.idem,
                                         taken_at=sent.taken_at)  # fmt: skip
        _log.info("hotline ticket via console", ticket=ticket.id, site=site.id,
                  user=session.user.name)  # fmt: skip
        return _see_other(f"/console/tickets/{ticket.id}?done=reported")

    @r.get("/wallboard")
    async def board(
        request: Request, session: Annotated[Session, who("GET", "/wallboard")]
    ) -> Response:
        console = console_of(request)
        tiles = await asyncio.to_thread(console.board.tiles, console.store, console.config(),
                                        console.clock.now())  # fmt: skip
        return render(request, "wallboard.html", session, {"tiles": tiles})

    @r.get("/wallboard/stream")
    async def stream(
        request: Request, session: Annotated[Session, who("GET", "/wallboard/stream")]
    ) -> Response:
        console = console_of(request)
        return StreamingResponse(
            wallboard.events(request, console, lang_of(request)),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    # Their own modules; imported here as they use this module's `who` and `form_of`.
    # Added onto this router, not included: its `routes` stay the one list ROUTES covers.
    from monitord.console import devices, ops

    devices.add_routes(r)
    ops.add_routes(r)
    return r
