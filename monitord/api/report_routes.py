"""The API's reports: the monthly report (R2), a ticket's record (R1), the logs (R3).

Everyone with a token reads them; a customer only its own contract's (another contract's
report, ticket or site is "not found"). Without postponed annotations on purpose, like
prevention_routes: FastAPI must see the caller dependency when the route is defined.
"""

import asyncio
import re
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from monitord.api.auth import Principal
from monitord.api.schemas import Id
from monitord.clock import Clock
from monitord.config import Config
from monitord.reports import appendix, html, markdown, monthly_view
from monitord.reports.document import Document
from monitord.reports.service import (
    ReportInputError,
    log_export,
    ticket_document,
)
from monitord.reports.service import (
    monthly_report as monthly_figures,
)
from monitord.store import Store

Lang = Literal["zh", "en"] | None
_MARKDOWN = "text/markdown; charset=utf-8"


def _page(doc: Document, fmt: str) -> Response:
    if fmt == "html":
        return Response(html.render(doc), media_type="text/html; charset=utf-8")
    return Response(markdown.render(doc), media_type=_MARKDOWN)


def _unprocessable(exc: ReportInputError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{exc.option}: {exc}")


def report_router(
    store: Store,
    config: Callable[[], Config],
    clock: Clock,
    caller: Callable[..., Principal],
) -> APIRouter:
    router = APIRouter(tags=["reports"])
    Caller = Annotated[Principal, Depends(caller)]

    @router.get("/api/v1/reports/monthly", response_class=Response)
    async def monthly_report(
        who: Caller,
        contract: str,
        month: Annotated[str, Query(description="YYYY-MM, in the contract's time zone")],
        format: Literal["html", "md"] = "html",
        lang: Lang = None,
        warranty_days: Annotated[int, Query(ge=1, le=3660)] = 90,
    ) -> Response:
        """The monthly report of a contract: HTML (printable, inline SVG charts) or Markdown.

        It shows the worst devices; every device's availability is at
        /api/v1/reports/monthly/devices (the report names that address)."""
        if not who.sees_contract(contract):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"contract {contract} does not exist")
        now = clock.now()
        try:
            report = await asyncio.to_thread(
                monthly_figures, store, config(), contract, month, lang, now, warranty_days
            )
        except ReportInputError as exc:
            raise _unprocessable(exc) from None
        query = {"contract": contract, "month": month, **({"lang": lang} if lang else {})}
        beside = f"/api/v1/reports/monthly/devices?{urlencode(query)}"
        return _page(monthly_view.document(report, now, beside), format)

    @router.get("/api/v1/reports/monthly/devices", response_class=Response)
    async def monthly_devices(
        who: Caller,
        contract: str,
        month: Annotated[str, Query(description="YYYY-MM, in the contract's time zone")],
        format: Literal["csv", "html"] = "csv",
        lang: Lang = None,
    ) -> Response:
        """The monthly report's appendix: every device's availability, CSV or HTML."""
        if not who.sees_contract(contract):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"contract {contract} does not exist")
        now = clock.now()
        try:
            report = await asyncio.to_thread(
                monthly_figures, store, config(), contract, month, lang, now
            )
        except ReportInputError as exc:
            raise _unprocessable(exc) from None
        if format == "html":
            page = html.render(appendix.document(report, now))
            return Response(page, media_type="text/html; charset=utf-8")
        name = re.sub(r"[^\w.\-]", "_", f"monitord-monthly-{contract}-{month}-devices.csv")
        return Response(
            appendix.to_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @router.get("/api/v1/reports/tickets/{ticket_id}", response_class=Response)
    async def ticket_report(
        who: Caller, ticket_id: Id, format: Literal["html", "md"] = "md", lang: Lang = None
    ) -> Response:
        """A ticket's four documents and the customer's sign-off as one record."""
        found = await asyncio.to_thread(
            ticket_document, store, config(), ticket_id, lang, clock.now()
        )
        if found is None or not who.sees_contract(found[0]):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"ticket {ticket_id} does not exist")
        return _page(found[1], format)

    @router.get("/api/v1/reports/log", response_class=Response)
    async def log_report(
        who: Caller,
        since: Annotated[str, Query(alias="from", description="First day, YYYY-MM-DD")],
        until: Annotated[str, Query(alias="to", description="Last day, YYYY-MM-DD, included")],
        site: str | None = None,
        contract: str | None = None,
        format: Literal["csv", "md"] = "csv",
        lang: Lang = None,
    ) -> Response:
        """The service log and the system operation log of a site or a contract's sites."""
        if contract is not None and not who.sees_contract(contract):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"contract {contract} does not exist")
        try:
            export = await asyncio.to_thread(
                log_export, store, config(), site, contract, since, until, lang, clock.now()
            )
        except ReportInputError as exc:
            raise _unprocessable(exc) from None
        if not all(who.sees_contract(c or "") for c in export.contracts):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site} does not exist")
        if format == "md":
            return Response(markdown.render(export.document()), media_type=_MARKDOWN)
        name = re.sub(r"[^\w.\-]", "_", f"monitord-log-{site or contract}-{since}-{until}.csv")
        return Response(
            export.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return router
