"""The follow-up survey (用户回访反馈信息表: attitude, responsibility, effect, score,
problems, suggestions) filled by the customer: signed in, from the ticket page, or from a
one-time survey link (console/links.py, purpose "survey") without an account.

It lands exactly where `monitord followups record` lands (prevention/followups.py `record`,
store.followups): one visit at the ticket's site, now, `by` the authenticated principal
(`console:<user>/customer` or `link:survey/<contact>`), `contact` the name typed, and the
ticket in `extra`. A survey of nothing (every field empty) is refused.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from monitord import log
from monitord.console import views
from monitord.console.accounts import Role, Session
from monitord.console.links import Links
from monitord.console.signoff import check_csrf, fresh_csrf, link_form
from monitord.console.web import Console, console_of, guard, posted, render
from monitord.notify.messages import Routing
from monitord.prevention import followups
from monitord.store.records import FollowUpVisit
from monitord.ticketing.lifecycle import Status

_log = log.get("monitord.console")
CUSTOMER: Final = frozenset({Role.CUSTOMER})
ROUTES: Final = {
    ("GET", "/console/tickets/{ticket_id}/survey"): CUSTOMER,
    ("POST", "/console/tickets/{ticket_id}/survey"): CUSTOMER,
}
PUBLIC: Final = {("GET", "/console/survey/{token}"), ("POST", "/console/survey/{token}")}
# A survey is about a repair that was done: from its resolution on.
AFTER_REPAIR: Final = frozenset({Status.RESOLVED.value, Status.VERIFIED.value,
                                 Status.CLOSED.value})  # fmt: skip
RATINGS: Final = ("attitude", "responsibility", "effect")
# Module level: with postponed annotations FastAPI resolves these names in module globals.
CUSTOMER_PAGE: Final = Depends(guard(*CUSTOMER))
CUSTOMER_FORM: Final = Depends(posted(*CUSTOMER))


class Answers:
    """A survey form read and checked: the ratings 1-5, the score 0-100, the two texts."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        self.contact = fields.get("contact", "").strip()[:200]
        self.problems = fields.get("problems", "").strip()[:4000]
        self.suggestions = fields.get("suggestions", "").strip()[:4000]
        self.ok = True
        self.ratings = {k: self._number(k, 1, 5) for k in RATINGS}
        self.score = self._number("score", 0, 100)
        given = [*self.ratings.values(), self.score]
        if all(v is None for v in given) and not (self.problems or self.suggestions):
            self.ok = False

    def _number(self, key: str, low: int, high: int) -> int | None:
        text = self.fields.get(key, "").strip()
        if not text:
            return None
        if not text.isdigit() or not low <= int(text) <= high:
            self.ok = False
            return None
        return int(text)

    def visit(self, site: str, at: Any, by: str, extra: dict[str, Any]) -> FollowUpVisit:
        r = self.ratings
        return FollowUpVisit("", site, at, by, self.contact, r["attitude"], r["responsibility"],
                             r["effect"], self.score, self.problems, self.suggestions,
                             extra=extra)  # fmt: skip


async def record(console: Console, t: views.TicketView, answers: Answers, by: str,
                 extra: dict[str, Any]) -> None:  # fmt: skip
    config = console.config()
    visit = answers.visit(t.ticket.site_id, console.clock.now(), by,
                          {"ticket": t.ticket.id, **extra})  # fmt: skip
    await asyncio.to_thread(followups.record, console.store, config, visit, False,
                            messages=Routing.from_config(config))  # fmt: skip
    _log.info("follow-up survey via console", ticket=t.ticket.id, site=t.ticket.site_id, by=by)


def form_page(request: Request, session: Session | None, t: views.TicketView, csrf: str,
              action: str, answers: Answers | None = None, code: int = 200) -> Response:  # fmt: skip
    values = {"t": t, "csrf": csrf, "action": action, "ratings": RATINGS,
              "fields": answers.fields if answers else {},
              "error": "survey_bad" if answers and not answers.ok else ""}  # fmt: skip
    return render(request, "survey.html", session, values, code)


def survey_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)

    async def theirs(request: Request, session: Session, ticket_id: int) -> views.TicketView:
        console = console_of(request)
        found = await asyncio.to_thread(views.one, console.store, console.config(),
                                        session.user, ticket_id, console.clock.now())  # fmt: skip
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        return found

    @r.get("/tickets/{ticket_id}/survey")
    async def survey_page(
        request: Request, ticket_id: int, session: Annotated[Session, CUSTOMER_PAGE]
    ) -> Response:
        t = await theirs(request, session, ticket_id)
        return form_page(request, session, t, session.csrf, f"/console/tickets/{ticket_id}/survey")

    @r.post("/tickets/{ticket_id}/survey")
    async def survey(
        request: Request,
        ticket_id: int,
        posted_: Annotated[tuple[Session, dict[str, str]], CUSTOMER_FORM],
    ) -> Response:
        session, fields = posted_
        t = await theirs(request, session, ticket_id)
        action = f"/console/tickets/{ticket_id}/survey"
        if t.ticket.status not in AFTER_REPAIR:
            return render(request, "signoff_gone.html", session, {"gone": "not_now"},
                          status.HTTP_409_CONFLICT)  # fmt: skip
        answers = Answers(fields)
        if not answers.ok:
            return form_page(request, session, t, session.csrf, action, answers,
                             status.HTTP_422_UNPROCESSABLE_CONTENT)  # fmt: skip
        principal = f"console:{session.user.name}/{session.user.role.value}"
        await record(console_of(request), t, answers, principal,
                     {"via": "console", "console_user": session.user.name})  # fmt: skip
        return RedirectResponse(f"/console/tickets/{ticket_id}?done=done",
                                status.HTTP_303_SEE_OTHER)  # fmt: skip

    async def by_link(
        request: Request, token: str
    ) -> tuple[Console, Links, views.TicketView] | None:
        console = console_of(request)
        now = console.clock.now()
        links = Links(console.store, console.config().console, console.clock.now)
        found = await asyncio.to_thread(links.peek_contact, token, "survey", now)
        ticket = (await asyncio.to_thread(console.store.tickets.get, found.ticket_id)
                  if found else None)  # fmt: skip
        if ticket is None:
            return None
        return console, links, views.view(console.config(), ticket[0], ticket[1], now)

    def gone(request: Request) -> Response:
        return render(request, "signoff_gone.html", None, {"gone": "survey_gone"}, 410)

    @r.get("/survey/{token}")
    async def link_page(request: Request, token: str) -> Response:
        # Shows the form; uses nothing (mail apps and pre-fetchers GET this).
        found = await by_link(request, token)
        if found is None:
            return gone(request)
        csrf = secrets.token_urlsafe(24)
        shown = form_page(request, None, found[2], csrf, f"/console/survey/{token}")
        return fresh_csrf(shown, found[0], csrf)

    @r.post("/survey/{token}")
    async def link_survey(request: Request, token: str) -> Response:
        fields = await link_form(request)
        found = await by_link(request, token)
        if found is None:
            return gone(request)
        check_csrf(request, fields)
        console, links, t = found
        answers = Answers(fields)
        if not answers.ok:
            return form_page(request, None, t, fields.get("csrf", ""), f"/console/survey/{token}",
                             answers, status.HTTP_422_UNPROCESSABLE_CONTENT)  # fmt: skip
        used = await asyncio.to_thread(links.redeem_contact, token, "survey", console.clock.now())
        if used is None:
            return gone(request)
        await record(console, t, answers, f"link:survey/{used.contact}",
                     {"via": "survey link", "contact_id": used.contact})  # fmt: skip
        return render(request, "signoff_gone.html", None, {"gone": "survey_thanks"})

    return r
