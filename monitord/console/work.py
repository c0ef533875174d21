"""The engineer's work on a ticket from a phone: the milestone forms with text and photos,
pause/resume with a reason, and the photos served back to whoever may see the ticket.

Each step lands in the same event the CLI's `monitord ticket ACTION` records
(present/actions.py: ack, onsite, diagnose, plan, stage, resolve, pause, resume), signed by
the console user, with the photos' references and the phone's location (if it gave one) in
the event's data. The work form is the one console route whose body may be large (api/guard.py
`body_cap`: photos per form x bytes per photo); its fields are parsed by Starlette's form
reader (python-multipart: files spool to disk past 1 MB, parts and files are counted), and
every photo is checked again by size and magic bytes (console/photos.py) before it is kept.

Both forms honour the offline queue's idempotency key and the time the action was taken
(console/actions.py): a phone resending a queued step, photos and all, records it once,
dated when it was taken where that is plausible (ticketing/taken.py).
"""

from __future__ import annotations

import asyncio
import hmac
import math
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from monitord import log
from monitord.console import actions, views
from monitord.console.accounts import Role, Session
from monitord.console.photos import NAME, PhotoRefused, Photos, referenced
from monitord.console.web import MAX_FORM, console_of, guard, render
from monitord.notify.messages import Routing
from monitord.store import ActiveTicketExists, RepeatedAction
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind, InvalidTransition, Status

_log = log.get("monitord.console")
_WORKERS = (Role.ENGINEER, Role.MANAGER)
# (method, path) -> who may use it; routes.py adds these to ROUTES (the authorisation test).
ROUTES: Final = {
    ("POST", "/console/tickets/{ticket_id}/work"): frozenset(_WORKERS),
    ("POST", "/console/tickets/{ticket_id}/pause"): frozenset(_WORKERS),
    ("GET", "/console/tickets/{ticket_id}/photos/{name}"): frozenset(Role),
}
# The milestone path: form value -> (event, the statuses it is offered in). "onway" is a
# comment with data.milestone (the lifecycle has no state for it); a stage report repeats.
STEPS: Final = {
    "ack": (EventKind.ACKNOWLEDGED, {Status.OPEN}),
    "onway": (EventKind.COMMENT, {Status.ACKNOWLEDGED}),
    "onsite": (EventKind.ON_SITE, {Status.OPEN, Status.ACKNOWLEDGED}),
    "diagnose": (EventKind.DIAGNOSIS, {Status.ON_SITE}),
    "plan": (EventKind.PLAN, {Status.DIAGNOSED}),
    "stage": (EventKind.STAGE, {Status.PLANNED, Status.IN_PROGRESS}),
    "resolve": (EventKind.RESOLVED, {Status.ON_SITE, Status.DIAGNOSED, Status.PLANNED,
                                     Status.IN_PROGRESS}),
}  # fmt: skip
REPORTS: Final = frozenset({"diagnose", "plan", "stage", "resolve"})  # these need their text
# The status each step leads to (none: "onway", a comment). The page draws every step and
# shows those offered now; a step queued offline (static/work.js) moves the page on by this,
# so that the next one can be taken before the signal returns.
LEADS_TO: Final = {"ack": Status.ACKNOWLEDGED, "onsite": Status.ON_SITE,
                   "diagnose": Status.DIAGNOSED, "plan": Status.PLANNED,
                   "stage": Status.IN_PROGRESS, "resolve": Status.RESOLVED}  # fmt: skip


def path() -> list[tuple[str, str, str]]:
    """Every step as the page draws it: (name, the statuses it is offered in, the status it
    leads to or ""), the statuses space-separated for the page's data attributes."""
    return [(name, " ".join(sorted(s.value for s in where)),
             LEADS_TO[name].value if name in LEADS_TO else "")
            for name, (_, where) in STEPS.items()]  # fmt: skip


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _session(method: str, path: str) -> Any:
    return Depends(guard(*ROUTES[(method, "/console" + path)]))


def work_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)

    @r.post("/tickets/{ticket_id}/work")
    async def work(
        request: Request,
        ticket_id: int,
        session: Annotated[Session, _session("POST", "/tickets/{ticket_id}/work")],
    ) -> Response:
        fields, blobs = await _read(request, session)
        found = await _visible(request, session, ticket_id)
        sent = actions.sent(fields)
        # A queued resend answers as the first sending did, before the status (which has
        # moved on since) is judged and before any of its photos is kept again.
        await actions.refuse_repeat(request, sent)
        step = fields.get("step", "")
        if step not in STEPS:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "step")
        kind, offered_in = STEPS[step]
        text = fields.get("text", "").strip()
        if Status(found.ticket.status) not in offered_in:
            return await _not_now(request, session, ticket_id, sent)
        if step in REPORTS and not text:
            return _refused(request, session, ticket_id, "work_needs_text",
                            status.HTTP_422_UNPROCESSABLE_CONTENT)  # fmt: skip
        data: dict[str, Any] = {"step": step}
        if step == "onway":
            data["milestone"] = views.EN_ROUTE
            text = text or "on my way"
        if step == "onsite" and (where := _location(fields)) is not None:
            data["location"] = where
        config = console_of(request).config()
        photos = Photos(config.state_dir, config.console)
        try:
            refs = await asyncio.to_thread(photos.save, ticket_id, blobs)
        except PhotoRefused as exc:
            return _refused(request, session, ticket_id, exc.reason, exc.code)
        if refs:
            data["photos"] = refs
        try:
            refused = await _append(request, session, ticket_id, kind, text, data, sent)
        except RepeatedAction:  # a racing resend of the same action won: keep only its photos
            await asyncio.to_thread(photos.discard, ticket_id, refs)
            raise
        if refused is not None:
            await asyncio.to_thread(photos.discard, ticket_id, refs)
            return await _not_now(request, session, ticket_id, sent)
        return RedirectResponse(f"/console/tickets/{ticket_id}?done=done",
                                status.HTTP_303_SEE_OTHER)  # fmt: skip

    @r.post("/tickets/{ticket_id}/pause")
    async def pause(
        request: Request,
        ticket_id: int,
        session: Annotated[Session, _session("POST", "/tickets/{ticket_id}/pause")],
    ) -> Response:
        # The SLA clocks that may pause stop (ticketing/sla.py); a pause or a resume says why.
        fields, _ = await _read(request, session)
        await _visible(request, session, ticket_id)
        sent = actions.sent(fields)
        await actions.refuse_repeat(request, sent)
        action = fields.get("action", "")
        if action not in ("pause", "resume"):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "action")
        reason = fields.get("reason", "").strip()
        if not reason:
            return _refused(request, session, ticket_id, "pause_needs_reason",
                            status.HTTP_422_UNPROCESSABLE_CONTENT)  # fmt: skip
        kind = EventKind.PAUSED if action == "pause" else EventKind.RESUMED
        refused = await _append(request, session, ticket_id, kind, reason, {"step": action},
                                sent)  # fmt: skip
        if refused is not None:
            return await _not_now(request, session, ticket_id, sent)
        return RedirectResponse(f"/console/tickets/{ticket_id}?done=done",
                                status.HTTP_303_SEE_OTHER)  # fmt: skip

    @r.get("/tickets/{ticket_id}/photos/{name}")
    async def photo(
        request: Request,
        ticket_id: int,
        name: str,
        session: Annotated[Session, _session("GET", "/tickets/{ticket_id}/photos/{name}")],
    ) -> Response:
        found = await _visible(request, session, ticket_id)  # another tenant's: 404
        config = console_of(request).config()
        photos = Photos(config.state_dir, config.console)
        if NAME.fullmatch(name) is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "name")
        media = referenced(e.data for e in found.events).get(name)
        path = await asyncio.to_thread(photos.path, ticket_id, name) if media else None
        if media is None or path is None:  # only a photo this ticket's log names
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        # Random names never change content: the phone may keep it (privately) for an hour.
        headers = {"cache-control": "private, max-age=3600", "x-content-type-options": "nosniff",
                   "content-security-policy": "default-src 'none'"}  # fmt: skip
        return FileResponse(path, media_type=media, headers=headers)

    return r


async def _read(request: Request, session: Session) -> tuple[dict[str, str], list[bytes]]:
    """The form's text fields and its photos (as bytes, each read to at most its cap + 1),
    CSRF checked before anything is kept."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _FORMS:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send a form")
    settings = console_of(request).config().console
    fields: dict[str, str] = {}
    blobs: list[bytes] = []
    # One file more than allowed is read so that "too many" is our refusal with its words;
    # beyond that Starlette refuses (400) before reading them.
    async with request.form(max_files=settings.photos_per_form + 1, max_fields=32,
                            max_part_size=MAX_FORM) as form:  # fmt: skip
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key == "photos" and value.filename:
                    blobs.append(await value.read(settings.photo_max_bytes + 1))
            elif key not in fields:
                fields[key] = value
    if not hmac.compare_digest(fields.get("csrf", "").encode(), session.csrf.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "csrf")
    return fields, blobs


async def _visible(request: Request, session: Session, ticket_id: int) -> views.TicketView:
    console = console_of(request)
    found = await asyncio.to_thread(views.one, console.store, console.config(), session.user,
                                    ticket_id, console.clock.now())  # fmt: skip
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
    return found


def _location(fields: dict[str, str]) -> dict[str, float] | None:
    """The phone's position from the form's hidden fields, if it gave a sensible one."""
    try:
        lat, lon = float(fields.get("lat", "")), float(fields.get("lon", ""))
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        return None
    where = {"lat": round(lat, 6), "lon": round(lon, 6)}
    try:
        accuracy = float(fields.get("accuracy", ""))
    except ValueError:
        return where
    if math.isfinite(accuracy) and 0 <= accuracy < 1e6:
        where["accuracy_m"] = round(accuracy, 1)
    return where


async def _append(
    request: Request, session: Session, ticket_id: int, kind: EventKind, text: str,
    data: dict[str, Any], sent: actions.Sent,
) -> str | None:  # fmt: skip
    """Append as the signed-in user; None, or why the ticket's status refuses it.
    RepeatedAction (answered by actions.answer_repeat) if `sent`'s key is recorded; its
    `taken_at` dates the event where plausible (ticketing/taken.py)."""
    console = console_of(request)
    principal = {"console_user": session.user.name, "role": session.user.role.value}
    try:
        await asyncio.to_thread(tickets.append, console.store, ticket_id, kind, session.user.name,
                                console.clock.now(), text[:4000], {**data, **principal},
                                Routing.from_config(console.config()),
                                sent.idem, sent.taken_at)  # fmt: skip
    except (InvalidTransition, ActiveTicketExists) as exc:
        return str(exc)
    _log.info("ticket event via console", ticket=ticket_id, kind=kind.value,
              user=session.user.name, photos=len(data.get("photos", ())))  # fmt: skip
    return None


def _refused(request: Request, session: Session, ticket_id: int, reason: str,
             code: int) -> Response:  # fmt: skip
    """Why the form was not taken, with the way back (the page works without JS)."""
    settings = console_of(request).config().console
    values = {"ticket_id": ticket_id, "reason": reason,
              "photo_mb": settings.photo_max_bytes // (1024 * 1024),
              "per_form": settings.photos_per_form}  # fmt: skip
    return render(request, "work_refused.html", session, values, code)


async def _not_now(request: Request, session: Session, ticket_id: int,
                   sent: actions.Sent) -> Response:  # fmt: skip
    """409, unless the status moved on because this very action landed meanwhile (a resend
    racing the first sending): then the first sending's answer."""
    await actions.refuse_repeat(request, sent)
    return _refused(request, session, ticket_id, "not_now", status.HTTP_409_CONFLICT)
