"""The API's endpoints (FastAPI). Every store call runs in a thread: the store is synchronous
and the app shares the daemon's event loop, which must never block on the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from monitord import __version__, log
from monitord.api.auth import MAY_POST, Principal, TokenBook, sign
from monitord.api.guard import Guard
from monitord.api.maintenance_routes import maintenance_router
from monitord.api.prevention_routes import prevention_router
from monitord.api.report_routes import report_router
from monitord.api.schemas import EventIn, HotlineIn, Id
from monitord.api.security_headers import SecurityHeaders
from monitord.api.views import device_json, ticket_json
from monitord.clock import Clock
from monitord.config import Config
from monitord.config.contracts import FaultKind, TicketClass
from monitord.config.models import ApiRole
from monitord.console.accounts import AttemptLimiter
from monitord.console.host import Host
from monitord.notify.messages import Routing
from monitord.present.actions import ACTIONS
from monitord.store import ActiveTicketExists, Store, StoreError, TicketConflict
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import InvalidTransition, Status

_log = log.get("monitord.api")
_ACTIVE = [s.value for s in Status if s != Status.CLOSED]
_bearer = HTTPBearer(auto_error=False, description="A token from the `api.tokens` section.")


def _field_error(field: str, message: str) -> HTTPException:
    # Same shape as FastAPI's own 422s, so a client reads one format.
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        [{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    book: TokenBook = request.app.state.tokens
    book.refresh(request.app.state.config())
    return book.authenticate(credentials.credentials if credentials else None)


# Module level: with postponed annotations FastAPI resolves these names in module globals.
Caller = Annotated[Principal, Depends(_caller)]


def create_app(
    store: Store, config: Callable[[], Config], clock: Clock, routers: Sequence[APIRouter] = (),
    host: Host | None = None,
) -> FastAPI:  # fmt: skip
    """The ASGI app; `config` returns the daemon's current configuration (it reloads).
    `routers` are mounted as they are (the site pollers' link, monitord/sites/routes.py);
    `host`: what the running daemon lends the console (console/host.py)."""
    app = FastAPI(
        title="monitord",
        version=__version__,
        description="Tickets, SLA deadlines, devices and faults of the monitored fleet.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI loads scripts from a CDN; sites are often offline
        redoc_url=None,
    )
    app.state.tokens, app.state.config = TokenBook(), config
    for router in routers:
        app.include_router(router)
        # What a router shares with the app's other parts (the poller link's command desk,
        # which the console's "probe now" uses): named on the router, set on app.state.
        for key, value in getattr(router, "app_state", {}).items():
            setattr(app.state, key, value)

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # Our own access log: method, path and status only, never headers (the token).
        started = time.monotonic()
        response = await call_next(request)
        _log.debug(
            "api request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            ms=round((time.monotonic() - started) * 1000, 1),
        )
        return response

    # Added last, so they are outermost: the guard refuses on the headers before the body is
    # read, and its refusals carry the security headers too.
    app.add_middleware(Guard, tokens=app.state.tokens, config=config)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own 422, but ASCII-escaped: an error quoting a lone surrogate as its
        # input cannot be encoded as UTF-8, and the 422 became a 500.
        body = json.dumps({"detail": jsonable_encoder(exc.errors())})
        return Response(body, status.HTTP_422_UNPROCESSABLE_CONTENT,
                        media_type="application/json")  # fmt: skip

    @app.exception_handler(StoreError)
    async def store_failed(_: Request, exc: StoreError) -> JSONResponse:
        _log.error("api: store failed", error=str(exc))
        return JSONResponse({"detail": str(exc)}, status.HTTP_503_SERVICE_UNAVAILABLE)

    async def one(who: Principal, ticket_id: int) -> tuple[TicketRecord, list[TicketEventRecord]]:
        found = await asyncio.to_thread(store.tickets.get, ticket_id)
        # Another contract's ticket is "not found": a customer learns nothing about it.
        if found is None or not who.sees_contract(found[0].contract):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"ticket {ticket_id} does not exist")
        return found

    def with_events(found: list[TicketRecord]) -> list[tuple[TicketRecord, Any]]:
        return [(t, store.tickets.events(t.id)) for t in found]

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness, without authentication."""
        return {"status": "ok"}

    @app.get("/api/v1/tickets", tags=["tickets"])
    async def list_tickets(
        who: Caller,
        status_: Annotated[list[Status] | None, Query(alias="status")] = None,
        contract: str | None = None,
        ticket_class: Annotated[TicketClass | None, Query(alias="class")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Tickets, newest first, with their deadlines (the log is in GET /tickets/{id})."""
        if who.role == ApiRole.CUSTOMER:
            if contract not in (None, who.contract):
                raise HTTPException(status.HTTP_403_FORBIDDEN, "not your contract")
            contract = who.contract
        statuses = [s.value for s in status_] if status_ else None
        # The store cannot filter by class: read enough to fill `limit` after filtering.
        found = await asyncio.to_thread(
            store.tickets.recent, statuses, contract, 10_000 if ticket_class else limit
        )
        if ticket_class is not None:
            found = [t for t in found if t.ticket_class == ticket_class.value][:limit]
        loaded = await asyncio.to_thread(with_events, found)
        now, current = clock.now(), config()
        return [ticket_json(current, t, e, now, with_events=False) for t, e in loaded]

    @app.get("/api/v1/tickets/{ticket_id}", tags=["tickets"])
    async def get_ticket(who: Caller, ticket_id: Id) -> dict[str, Any]:
        """One ticket: its log and every deadline (due, remaining, met, breached)."""
        ticket, events = await one(who, ticket_id)
        return ticket_json(config(), ticket, events, clock.now())

    @app.post(
        "/api/v1/tickets/{ticket_id}/events",
        tags=["tickets"],
        status_code=status.HTTP_201_CREATED,
        responses={409: {"description": "The ticket's status does not allow this event."}},
    )
    async def post_event(who: Caller, ticket_id: Id, body: EventIn) -> dict[str, Any]:
        """Append an event (the CLI's actions); returns the ticket as it is now."""
        if body.kind not in MAY_POST[who.role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"the {who.role.value} role may not post {body.kind!r}"
            )
        signature = sign(who, body.kind, body.on_behalf_of)
        await one(who, ticket_id)
        kind = ACTIONS[body.kind][0]
        at = clock.now()
        try:
            await asyncio.to_thread(
                tickets.append,
                store,
                ticket_id,
                kind,
                body.by,
                at,
                body.text,
                {"api_client": who.name, **signature},
                Routing.from_config(config()),  # its messages go out with the event
            )
        except (InvalidTransition, ActiveTicketExists, TicketConflict) as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
        except tickets.NoSuchTicket as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        _log.info("ticket event via api", ticket=ticket_id, kind=kind.value, by=body.by,
                  client=who.name, **signature)  # fmt: skip
        ticket, events = await one(who, ticket_id)
        return ticket_json(config(), ticket, events, clock.now())

    @app.post("/api/v1/tickets", tags=["tickets"], status_code=status.HTTP_201_CREATED)
    async def open_hotline(who: Caller, body: HotlineIn, response: Response) -> dict[str, Any]:
        """Open a hotline ticket for a customer's call (seed 000: first reply in 30 min)."""
        who.require(ApiRole.ENGINEER, ApiRole.MANAGER)
        current = config()
        site = next((s for s in current.sites if s.id == body.site), None)
        if site is None:
            raise _field_error("site", f"unknown site {body.site!r}")
        contract = next((c for c in current.contracts if c.id == site.contract), None)
        if contract is None:
            raise _field_error("site", f"site {body.site!r} has no contract")
        if body.device is not None and not any(
            d.id == body.device and d.site == site.id for d in current.devices
        ):
            raise _field_error("device", f"no device {body.device!r} at site {site.id!r}")
        ticket = await asyncio.to_thread(
            tickets.open_hotline,
            store,
            contract,
            site.id,
            body.by,
            body.text,
            clock.now(),
            body.device,
            body.ticket_class,
            Routing.from_config(current),
            sign(who, "open", None),
        )
        _log.info("hotline ticket via api", ticket=ticket.id, site=site.id, client=who.name)
        response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
        _, events = await one(who, ticket.id)
        return ticket_json(current, ticket, events, clock.now())

    @app.get("/api/v1/devices", tags=["devices"])
    async def list_devices(who: Caller, site: str | None = None) -> list[dict[str, Any]]:
        """Devices of the equipment archive with their last confirmed (HARD) state and since."""
        current = config()
        sites = {s.id: s for s in current.sites if who.sees_contract(s.contract or "")}
        devices = await asyncio.to_thread(store.devices.all, False, site)
        only = None if site is None else [d.id for d in devices]
        states = await asyncio.to_thread(store.states.load, only)
        return [
            device_json(d, states.get(d.id), sites[d.site_id].timezone)
            for d in devices
            if d.site_id in sites and site in (None, d.site_id)
        ]

    @app.get("/api/v1/faults", tags=["devices"])
    async def list_faults(who: Caller) -> list[dict[str, Any]]:
        """Active fault tickets (not hotline calls), each with its root device's state."""
        contract = who.contract if who.role == ApiRole.CUSTOMER else None
        # All of it in one worker thread: building 200 tickets' JSON on the event loop held
        # every other request (and the pollers' pushes) for seconds during a poller drain.
        return await asyncio.to_thread(_faults_json, contract, clock.now(), config())

    def _faults_json(
        contract: str | None, now: dt.datetime, current: Config
    ) -> list[dict[str, Any]]:
        found = store.tickets.recent(_ACTIVE, contract, 10_000)
        faults = [t for t in found if t.fault_kind != FaultKind.HOTLINE.value]
        events_of = store.tickets.events_of([t.id for t in faults])
        states = store.states.load({t.root_device for t in faults if t.root_device})
        out = []
        for t in faults:
            data = ticket_json(current, t, events_of[t.id], now, with_events=False)
            root = states.get(t.root_device or "")
            data["root_state"] = root.state if root else None
            out.append(data)
        return out

    app.include_router(prevention_router(store, config, clock, _caller))
    app.include_router(maintenance_router(store, config, clock, _caller))
    app.include_router(report_router(store, config, clock, _caller))
    # The web console shares the server; its routes answer 404 while `console` is off.
    from monitord.console.routes import mount_console
    from monitord.console.web import Console

    mount_console(app, Console(store, config, clock, AttemptLimiter(), host=host))
    return app
