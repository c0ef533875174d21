"""The customer's sign-off of a repair: approve with a name and a drawn signature, or reject
with a comment (the ticket reopens); signed in, or from a one-time link without an account.

Both paths land in the same events as `monitord ticket verify` / `reopen` (ticketing's
`tickets.append`: VERIFIED or REOPENED, with the principal in the data). The drawn signature
is kept in the VERIFIED event's data (base64 PNG, its digest and size): the ticket's record
is its log, so the signature is written in the same transaction as the sign-off, is in every
backup of the database, and the report builder needs nothing but the log (a file under the
state directory could be lost or orphaned apart from the event). It is small: at most 64 kB
(console/signature.py). Without JS the pad is hidden and the typed name is the signature,
recorded as `signature_kind: typed`.

An approval whose comment reads like a rejection (console/doubts.py) is shown again with
"approve anyway or reject?"; only a second POST with confirm=1 approves. Only a customer's
session may sign (ROUTES); a link's POST is refused while a staff session is in the browser,
so an engineer's phone never signs for the customer.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from monitord import log
from monitord.console import actions, signature, views
from monitord.console.accounts import Role, Session
from monitord.console.doubts import doubt
from monitord.console.links import Links
from monitord.console.web import (
    LOGIN_CSRF,
    Console,
    console_of,
    current,
    form,
    posted,
    render,
    set_cookie,
)
from monitord.notify.messages import Routing
from monitord.present.signature import PRINCIPAL
from monitord.store import ActiveTicketExists
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind, InvalidTransition, Status

_log = log.get("monitord.console")
CUSTOMER: Final = frozenset({Role.CUSTOMER})
ROUTES: Final = {("POST", "/console/tickets/{ticket_id}/signoff"): CUSTOMER}
PUBLIC: Final = {("GET", "/console/signoff/{token}"), ("POST", "/console/signoff/{token}")}
# A form with a signature: the PNG (<= 64 kB) as base64, percent-encoded, plus the text.
SIGNOFF_FORM: Final = 160 * 1024
_UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
# Module level: with postponed annotations FastAPI resolves these names in module globals.
CUSTOMER_FORM: Final = Depends(posted(*CUSTOMER, limit=SIGNOFF_FORM))


@dataclass(frozen=True, slots=True)
class Decided:
    kind: EventKind
    text: str
    data: dict[str, object]


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # a console word key
    code: int = _UNPROCESSABLE
    phrase: str = ""  # for "doubt": what the comment says


@dataclass(frozen=True, slots=True)
class Draft:
    """What the customer typed and drew, kept when the form is shown again."""

    signer: str = ""
    comment: str = ""
    signature: str = ""


def draft_of(fields: dict[str, str]) -> Draft:
    return Draft(fields.get("signer", "").strip()[:200], fields.get("comment", "").strip()[:4000],
                 fields.get("signature", "").strip())  # fmt: skip


def judge(fields: dict[str, str]) -> Decided | Refused:
    """The event a sign-off form asks for, or why not (pure; the PNG check takes ~0.1 s)."""
    decision, draft = fields.get("decision", ""), draft_of(fields)
    if decision == "reject":
        if not draft.comment:
            return Refused("reject_needs_comment")
        return Decided(EventKind.REOPENED, draft.comment,
                       {"decision": "reject", "rejected_by": draft.signer})  # fmt: skip
    if decision != "approve":
        raise HTTPException(_UNPROCESSABLE, "decision")
    if not draft.signer:
        return Refused("approve_needs_name")
    drawn = None
    if draft.signature:
        try:
            drawn = signature.parse(draft.signature)
        except signature.SignatureError as exc:
            return Refused(exc.reason)
    phrase = doubt(draft.comment)
    if phrase and fields.get("confirm") != "1":
        return Refused("doubt", status.HTTP_200_OK, phrase)
    data: dict[str, object] = {"decision": "approve", "signed_by": draft.signer,
                               "signature_kind": "drawn" if drawn else "typed"}  # fmt: skip
    if drawn is not None:
        data["signature"] = {"png": base64.b64encode(drawn.png).decode("ascii"),
                             "sha256": drawn.sha256, "width": drawn.width,
                             "height": drawn.height}  # fmt: skip
    if phrase:
        data["approved_despite"] = phrase  # the customer was asked and confirmed
    return Decided(EventKind.VERIFIED, draft.comment, data)


async def append(console: Console, ticket_id: int, by: str, decided: Decided,
                 principal: Mapping[str, object],
                 sent: actions.Sent = actions.UNSENT) -> bool:  # fmt: skip
    """Write the sign-off event with its messages; False if the ticket's status refuses."""
    try:
        await asyncio.to_thread(tickets.append, console.store, ticket_id, decided.kind, by,
                                console.clock.now(), decided.text, {**decided.data, **principal},
                                Routing.from_config(console.config()),
                                sent.idem, sent.taken_at)  # fmt: skip
    except (InvalidTransition, ActiveTicketExists):
        return False
    _log.info("customer sign-off", ticket=ticket_id, kind=decided.kind.value,
              principal=str(principal.get(PRINCIPAL)))  # fmt: skip
    return True


def page(
    request: Request, session: Session | None, t: views.TicketView, csrf: str, action: str,
    notice: str = "", draft: Draft = Draft(), phrase: str = "", code: int = 200,
) -> Response:  # fmt: skip
    values: dict[str, Any] = {"t": t, "csrf": csrf, "action": action, "notice": notice,
                              "draft": draft, "doubt": phrase}  # fmt: skip
    return render(request, "signoff.html", session, values, code)


def fresh_csrf(response: Response, console: Console, token: str) -> Response:
    """A link page's form token, as the sign-in page does it (there is no session)."""
    response.headers["referrer-policy"] = "no-referrer"  # the link's token is in the URL
    set_cookie(response, console, LOGIN_CSRF, token, 3600)
    return response


async def link_form(request: Request) -> dict[str, str]:
    """A link page's POST: its form, capped as a signature form (see `check_csrf`)."""
    return await form(request, SIGNOFF_FORM)


def check_csrf(request: Request, fields: dict[str, str]) -> None:
    """The form's token against the cookie the link's GET set (after the link is known to
    be alive, so a used link is answered by its clear page, not by a bare 403)."""
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(fields.get("csrf", ""), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "csrf")


async def staff_present(request: Request) -> bool:
    """A signed-in engineer, dispatcher or manager in this browser: never the customer."""
    session = await current(request)
    return session is not None and session.user.role != Role.CUSTOMER


def signoff_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)

    @r.post("/tickets/{ticket_id}/signoff")
    async def signoff(
        request: Request,
        ticket_id: int,
        posted_: Annotated[tuple[Session, dict[str, str]], CUSTOMER_FORM],
    ) -> Response:
        session, fields = posted_
        console = console_of(request)
        found = await asyncio.to_thread(views.one, console.store, console.config(),
                                        session.user, ticket_id, console.clock.now())  # fmt: skip
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        action = f"/console/tickets/{ticket_id}/signoff"
        sent = actions.sent(fields)
        await actions.refuse_repeat(request, sent)  # a queued resend: the first outcome
        if found.ticket.status != Status.RESOLVED.value:
            return page(request, session, found, session.csrf, action, "not_now",
                        code=status.HTTP_409_CONFLICT)  # fmt: skip
        decided = await asyncio.to_thread(judge, fields)
        if isinstance(decided, Refused):
            return page(request, session, found, session.csrf, action, decided.reason,
                        draft_of(fields), decided.phrase, decided.code)  # fmt: skip
        principal = {PRINCIPAL: f"console:{session.user.name}/{session.user.role.value}",
                     "console_user": session.user.name, "role": session.user.role.value}  # fmt: skip
        if not await append(console, ticket_id, session.user.name, decided, principal, sent):
            return page(request, session, found, session.csrf, action, "not_now",
                        code=status.HTTP_409_CONFLICT)  # fmt: skip
        done = "approved" if decided.kind == EventKind.VERIFIED else "rejected"
        return RedirectResponse(f"/console/tickets/{ticket_id}?done={done}",
                                status.HTTP_303_SEE_OTHER)  # fmt: skip

    async def by_link(
        request: Request, token: str
    ) -> tuple[Console, Links, views.TicketView] | None:
        console = console_of(request)
        now = console.clock.now()
        links = Links(console.store, console.config().console, console.clock.now)
        found = await asyncio.to_thread(links.peek_contact, token, "signoff", now)
        if found is None:
            return None
        ticket = await asyncio.to_thread(console.store.tickets.get, found.ticket_id)
        if ticket is None:
            return None
        return console, links, views.view(console.config(), ticket[0], ticket[1], now)

    def gone(request: Request) -> Response:
        return render(request, "signoff_gone.html", None, {"gone": "signoff_gone"}, 410)

    @r.get("/signoff/{token}")
    async def link_page(request: Request, token: str) -> Response:
        # Shows the form; uses nothing, does nothing (mail apps and pre-fetchers GET this).
        found = await by_link(request, token)
        if found is None or found[2].ticket.status != Status.RESOLVED.value:
            return gone(request)
        csrf = secrets.token_urlsafe(24)
        shown = page(request, None, found[2], csrf, f"/console/signoff/{token}")
        return fresh_csrf(shown, found[0], csrf)

    @r.post("/signoff/{token}")
    async def link_sign(request: Request, token: str) -> Response:
        fields = await link_form(request)
        found = await by_link(request, token)
        if found is None or found[2].ticket.status != Status.RESOLVED.value:
            return gone(request)
        check_csrf(request, fields)
        console, links, t = found
        action, csrf = f"/console/signoff/{token}", fields.get("csrf", "")
        if await staff_present(request):
            return page(request, None, t, csrf, action, "signoff_staff", draft_of(fields),
                        code=status.HTTP_403_FORBIDDEN)  # fmt: skip
        decided = await asyncio.to_thread(judge, fields)
        if isinstance(decided, Refused):
            return page(request, None, t, csrf, action, decided.reason, draft_of(fields),
                        decided.phrase, decided.code)  # fmt: skip
        used = await asyncio.to_thread(links.redeem_contact, token, "signoff",
                                       console.clock.now())  # fmt: skip
        if used is None:
            return gone(request)
        by = str(decided.data.get("signed_by") or decided.data.get("rejected_by") or used.contact)
        principal = {PRINCIPAL: f"link:signoff/{used.contact}", "contact": used.contact,
                     "via": "signoff link"}  # fmt: skip
        if not await append(console, t.ticket.id, by, decided, principal):
            return page(request, None, t, csrf, action, "not_now", code=status.HTTP_409_CONFLICT)
        thanks = "signoff_thanks" if decided.kind == EventKind.VERIFIED else "reject_thanks"
        response = render(request, "signoff_gone.html", None, {"gone": thanks})
        response.delete_cookie(LOGIN_CSRF, path="/console")
        return response

    return r
