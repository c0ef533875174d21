"""A console action's idempotency key and the time it was taken (the offline queue's half
on the server; the phone's half is static/offline.js).

A form may carry `idem` (a key the page made when the action was taken) and `taken_at`
(the phone's time then). A form without them (no JavaScript) works as before. A key the
log already holds answers with what the first sending got (a redirect to the ticket with
the same notice) and writes nothing; a key reused on another ticket is refused (409).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from fastapi import HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response

from monitord.console.web import console_of
from monitord.store import RepeatedAction
from monitord.ticketing.taken import parse_claim

_KEY: Final = re.compile(r"[A-Za-z0-9-]{8,64}")  # crypto.randomUUID() is 36 of these
# The notice the ticket page showed after the first sending, by the event it made.
_NOTICE: Final = {"verified": "approved", "reopened": "rejected", "assigned": "assigned"}


@dataclass(frozen=True, slots=True)
class Sent:
    idem: str | None
    taken_at: dt.datetime | None


UNSENT: Final = Sent(None, None)  # a plain form (no JavaScript): no key, the server's time


def sent(fields: dict[str, str]) -> Sent:
    """The form's key and claimed time; 422 for a key that is not one."""
    key = fields.get("idem", "")
    if key and not _KEY.fullmatch(key):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "idem")
    return Sent(key or None, parse_claim(fields.get("taken_at", "")))


async def refuse_repeat(request: Request, action: Sent) -> None:
    """Raise RepeatedAction if this action's key is already in a ticket's log: checked
    before the ticket's status, which has moved on since the first sending."""
    if action.idem is None:
        return
    store = console_of(request).store
    found = await asyncio.to_thread(store.tickets.by_idem, action.idem)
    if found is not None:
        raise RepeatedAction(action.idem, *found)


async def answer_repeat(request: Request, exc: RepeatedAction) -> Response:
    """The first sending's outcome, or 409 when the key was made for another ticket."""
    if str(exc.ticket_id) != request.path_params.get("ticket_id"):
        return await http_exception_handler(
            request, HTTPException(status.HTTP_409_CONFLICT, "idem")
        )
    store = console_of(request).store
    events = await asyncio.to_thread(store.tickets.events, exc.ticket_id)
    kind = next((e.kind for e in events if e.seq == exc.seq), "")
    notice = _NOTICE.get(kind, "done")
    return RedirectResponse(
        f"/console/tickets/{exc.ticket_id}?done={notice}", status.HTTP_303_SEE_OTHER
    )
