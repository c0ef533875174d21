"""The monthly report (R2) from the console: a customer downloads their own contract's,
a dispatcher or manager any contract's. Built by the reports' own service (the same
figures as `monitord report monthly` and /api/v1/reports/monthly), as printable HTML.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response

from monitord.console.accounts import Role, Session
from monitord.console.web import console_of, lang_of, render
from monitord.console.web import guard as _guard
from monitord.reports import html
from monitord.reports.service import ReportInputError, monthly_document

ROUTES: Final = {
    ("GET", "/console/monthly"): frozenset({Role.CUSTOMER, Role.DISPATCHER, Role.MANAGER}),
}
# Module level: with postponed annotations FastAPI resolves these names in module globals.
READER: Final = Depends(_guard(*ROUTES[("GET", "/console/monthly")]))


def last_month(now: dt.datetime, tz: str = "Asia/Shanghai") -> str:
    first = now.astimezone(ZoneInfo(tz)).date().replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def monthly_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)

    @r.get("/monthly")
    async def monthly(
        request: Request,
        session: Annotated[Session, READER],
        month: str = "",
        contract: str = "",
    ) -> Response:
        console = console_of(request)
        config, now = console.config(), console.clock.now()
        own = session.user.contract
        choices = [c.id for c in config.contracts if own is None or c.id == own]
        chosen = contract or (own or (choices[0] if choices else ""))
        if chosen not in choices:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")  # not theirs: no hint
        values = {"contracts": choices, "contract": chosen, "month": month or last_month(now),
                  "error": ""}  # fmt: skip
        if not month:
            return render(request, "monthly.html", session, values)
        try:
            doc = await asyncio.to_thread(monthly_document, console.store, config, chosen,
                                          month, lang_of(request), now)  # fmt: skip
        except ReportInputError:
            values["error"] = "monthly_bad"
            return render(request, "monthly.html", session, values,
                          status.HTTP_422_UNPROCESSABLE_CONTENT)  # fmt: skip
        page = html.render(doc)
        name = re.sub(r"[^\w.\-]", "_", f"monitord-monthly-{chosen}-{month}.html")
        return Response(page, media_type="text/html; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store"})  # fmt: skip

    return r
