"""The device page (archive, operation record, tickets, history charts) and "probe now".

Anyone who may see the device's site reads the page (a customer: their contract's sites);
another tenant's device is 404 like a missing one. "Probe now" is a POST (CSRF) answered by
a redirect to the page, which shows the result: a reload repeats nothing.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from monitord import log
from monitord.console import charts, device_view
from monitord.console.accounts import Session
from monitord.console.probing import ProbeDesk
from monitord.console.routes import form_of, who
from monitord.console.web import app_shared, commands_of, console_of, lang_of, render
from monitord.present import i18n

_log = log.get("monitord.console")
_NOTICES = ("probed", "probe_busy", "probe_too_soon", "probe_remote")


def desk_of(request: Request) -> ProbeDesk:
    """The app's one probe desk (made on first use: the console's state needs no new field)."""
    return app_shared(request, "console_probes", ProbeDesk)


def add_routes(r: APIRouter) -> None:
    """Onto the console's router (its prefix, its table of routes: ROUTES)."""

    async def shown(request: Request, session: Session, site: str, device: str) -> Response:
        console = console_of(request)
        config = console.config()
        found = device_view.find(config, session.user, site, device)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        lang = lang_of(request)
        view = await asyncio.to_thread(device_view.page, console.store, config, *found,
                                       console.clock.now(), lang)  # fmt: skip
        notice = request.query_params.get("done", "")
        words = {"time": i18n.word(i18n.CONSOLE, "chart_time", lang)}
        values = {
            "d": view,
            "svgs": [charts.svg(c, view.site.timezone, words["time"]) for c in view.charts],
            "probe": desk_of(request).results.get(view.device.id),
            "channel": commands_of(request) is not None,  # probe now reaches site pollers
            "notice": notice if notice in _NOTICES else "",
            "state_word": i18n.t(view.state.state if view.state else "pending", lang),
            "t": lambda key: i18n.t(key, lang),
        }
        return render(request, "device.html", session, values)

    @r.get("/devices/{site}")
    async def site_page(
        request: Request, site: str, session: Annotated[Session, who("GET", "/devices/{site}")]
    ) -> Response:
        # The way in from the wallboard's tile: the site's devices, each to its page.
        console = console_of(request)
        config = console.config()
        found = device_view.site_of(config, session.user, site)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        listed = await asyncio.to_thread(device_view.devices_of, console.store, config, found)
        lang = lang_of(request)
        values = {"site": found, "devices": listed, "t": lambda key: i18n.t(key, lang)}
        return render(request, "site.html", session, values)

    @r.get("/devices/{site}/{device}")
    async def device_page(
        request: Request,
        site: str,
        device: str,
        session: Annotated[Session, who("GET", "/devices/{site}/{device}")],
    ) -> Response:
        return await shown(request, session, site, device)

    @r.post("/devices/{site}/{device}/probe")
    async def probe_now(
        request: Request,
        site: str,
        device: str,
        posted_: Annotated[tuple[Session, dict[str, str]],
                           form_of("/devices/{site}/{device}/probe")],
    ) -> Response:  # fmt: skip
        session = posted_[0]
        console = console_of(request)
        config = console.config()
        found = device_view.find(config, session.user, site, device)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "not_found")
        here = f"/console/devices/{site}/{device}"
        via = commands_of(request)
        if found[0].poller != "local" and via is None:
            # This daemon does not serve the poller link: no way to the site's poller.
            return RedirectResponse(here + "?done=probe_remote", status.HTTP_303_SEE_OTHER)
        refused = await desk_of(request).run(config, found[1], console.clock.now(),
                                             lang_of(request), via)  # fmt: skip
        _log.info("probe via console", device=device, user=session.user.name,
                  poller=found[0].poller, refused=refused or "")  # fmt: skip
        done = refused or "probed"
        return RedirectResponse(f"{here}?done={done}#probe", status.HTTP_303_SEE_OTHER)
