"""The poller link's HTTP routes at the centre (mounted in the daemon's API server).

Each route authenticates from the headers alone (the credential or, for enrolment, nothing
but a small body) and reads the body only afterwards, capped at `wire.MAX_BODY`: a caller
without a credential cannot make the centre read or parse a byte of a push.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from monitord import log
from monitord.clock import Clock
from monitord.sites.centre import HEARTBEAT_BYTES, NotYours, PollerCentre, Standby
from monitord.sites.commands import COMMANDS_MINOR
from monitord.sites.commands import NotYours as NotYourCommand
from monitord.sites.enrolment import new_token, normal_code
from monitord.sites.wire import (
    LONG_POLL,
    MAX_BODY,
    MINOR,
    PREFIX,
    WIRE,
    ConfigOut,
    EnrolIn,
    EnrolOut,
    PushIn,
    PushOut,
    Update,
    UpdateOut,
)
from monitord.store import Store
from monitord.store.fencing import Fenced
from monitord.store.pollers import EnrolRefused, PollerRecord

_log = log.get("monitord.sites")
_M = TypeVar("_M", bound=BaseModel)
ROLLUPS_KEY = b'"rollups"'  # a push's rollups key (a quote inside a string is escaped)
_UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    "missing, invalid or revoked poller credential",
    headers={"WWW-Authenticate": "Bearer"},
)


async def _raw(request: Request) -> bytes:
    """The body's bytes, capped at MAX_BODY (413 beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _parse(raw: bytes, model: type[_M], aside: bool = False) -> _M:
    """`raw` as `model`; `aside`: parsed in a worker thread (a push of 500 entries took
    the event loop for milliseconds, 30 % of it while 200 pollers replayed)."""
    try:
        if aside:
            return await asyncio.to_thread(model.model_validate_json, raw)
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            exc.errors(include_url=False, include_input=False),
        ) from None


async def _body(request: Request, model: type[_M], aside: bool = False) -> _M:
    return await _parse(await _raw(request), model, aside)


def poller_router(store: Store, clock: Clock, centre: PollerCentre) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["pollers"])
    router.app_state = {"commands": centre.commands}  # type: ignore[attr-defined]

    async def caller(request: Request) -> PollerRecord:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _UNAUTHORIZED
        found = await asyncio.to_thread(store.pollers.by_token, token.strip())
        if found is None:
            raise _UNAUTHORIZED
        return found

    @router.post("/enrol")
    async def enrol(request: Request) -> EnrolOut:
        """Spend a one-time code for this poller's own credential."""
        body = await _body(request, EnrolIn)
        token = new_token()
        try:
            poller = await asyncio.to_thread(
                store.pollers.enrol, normal_code(body.code), token, clock.now()
            )
        except EnrolRefused as exc:
            _log.warning("poller enrolment refused", client=_client(request))
            raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
        _log.info("poller enrolled", poller=poller.id, sites=list(poller.sites))
        return EnrolOut(poller=poller.id, sites=poller.sites, token=token)

    @router.get("/config", response_model_exclude_none=True, response_model=None)
    async def configuration(
        request: Request, response: Response, wait: str | None = None
    ) -> ConfigOut | Response:
        """The poller's sites, their devices and probe settings. With `wait=REVISION`
        (wire 1.1): a long poll, answered as soon as the revision differs, else 304
        after LONG_POLL seconds."""
        poller = await caller(request)
        minor = _minor(request, response)
        centre.commands.heard(poller.id, minor)
        if wait is None:
            return centre.configuration(poller, minor)
        if len(wait) > 64:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "wait: a revision")
        out = await centre.configuration_after(poller, minor, wait, LONG_POLL)
        if out is None:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={WIRE: str(minor)})
        return JSONResponse(out.model_dump(mode="json", exclude_none=True),
                            headers={WIRE: str(minor)})  # fmt: skip

    @router.post("/push", response_model_exclude_none=True)
    async def push(request: Request, response: Response) -> PushOut:
        """Journal entries in sequence order, and a heartbeat; answers the acknowledged seq."""
        poller = await caller(request)  # before a byte of the body is read
        minor = _minor(request, response)
        centre.commands.heard(poller.id, minor)
        declared = request.headers.get("content-length", "")
        small = declared.isdigit() and int(declared) <= HEARTBEAT_BYTES
        try:
            if small:  # a heartbeat: no place needed
                return await centre.push(poller, await _body(request, PushIn), minor)
            async with centre.place() as placed:
                if placed:
                    return await centre.push(poller, await _body(request, PushIn, aside=True),
                                             minor)  # fmt: skip
            raw = await _raw(request)
            if ROLLUPS_KEY in raw:
                # Rollups are marked shipped at the site once answered (a push carries
                # either entries or rollups): applied without a place, never held back.
                return await centre.push(poller, await _parse(raw, PushIn, aside=True), minor)
            return await centre.held_back(poller, minor)
        except (Standby, Fenced):
            # Not the leader (or no longer): the poller's link tries its next centre URL.
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "standby centre: push to the leader"
            ) from None
        except NotYours as exc:
            _log.warning("poller wrote a device of another site", poller=poller.id, device=str(exc))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"device {exc} is not on a site of poller {poller.id}"
            ) from None

    @router.post("/commands/{command_id}")
    async def answer(request: Request, response: Response, command_id: str) -> UpdateOut:
        """A command's update (wire 1.2), only from the poller it was given to."""
        poller = await caller(request)
        if _minor(request, response) < COMMANDS_MINOR:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "commands need wire 1.2")
        body = await _body(request, Update)
        try:
            cancelled = centre.commands.answer(poller.id, command_id, body)
        except NotYourCommand:
            # Another poller's order and an unknown one look the same: nothing to learn.
            _log.warning("poller answered a command not its own", poller=poller.id)
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such command") from None
        return UpdateOut(cancelled=cancelled)

    return router


def _minor(request: Request, response: Response) -> int:
    """The wire's minor version for this exchange: the lower of the poller's and ours."""
    said = request.headers.get(WIRE, "0")
    minor = min(int(said), MINOR) if said.isdigit() else 0
    response.headers[WIRE] = str(minor)
    return minor


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None
