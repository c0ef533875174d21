"""The offline queue's service worker, served from /console/ so that its scope covers the
console (a worker's scope is bounded by its own path; /console/static/ would not do)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from monitord.console.web import console_of

WORKER: Final = Path(__file__).parent / "static" / "sw.js"


def offline_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)

    @r.get("/sw.js")
    async def service_worker(request: Request) -> Response:
        console_of(request)  # 404 while the console is off
        # no-cache: a new release's worker is picked up on the next visit.
        return FileResponse(WORKER, media_type="text/javascript",
                            headers={"cache-control": "no-cache",
                                     "service-worker-allowed": "/console/"})  # fmt: skip

    return r
