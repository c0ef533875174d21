"""The API's front door: a pure ASGI layer that refuses before anything is read or parsed.

FastAPI reads and parses a JSON body before its dependencies run, so the token check in
`routes._caller` alone let one unauthenticated 200 MB POST grow the daemon by 550 MB and
stall every check. This layer runs first, on the headers only:

1. more requests in flight than `api.max_concurrent_requests` -> 503 (not /healthz);
2. a NUL anywhere in the URL -> 422 (no database stores one);
3. no valid bearer token on a path that needs one -> 401, the body never read;
4. a declared Content-Length over `api.max_body_bytes` -> 413, the body never read (the
   one larger cap: the console's photo upload, `console.upload_bytes`, see `body_cap`);
5. a body that grows past the cap while it streams (chunked) -> 413 at that point;
6. any exception the app lets out -> a JSON 500 and one JSON log line (nothing else in the
   way would log it as JSON: uvicorn prints a plain traceback).

The routes still authenticate (they need the principal); this only decides earlier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitord import log
from monitord.api.auth import TokenBook
from monitord.config import Config

_log = log.get("monitord.api")
# Paths anyone may GET without a token (routes.py serves them without `Caller`).
PUBLIC = frozenset({"/healthz", "/api/v1/openapi.json"})
# Faces that authenticate themselves, so no bearer token is asked; their bodies keep the
# same cap and their requests count against the same limit. The web console signs people in
# with its own sessions (console/accounts.py); site pollers carry their own credentials
# (store.pollers), which sites/routes.py checks from the headers before reading the body.
OWN_AUTHENTICATION = ("/console", "/api/poller")


def _own_authentication(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in OWN_AUTHENTICATION)


# The engineer's work form (console/work.py) carries camera photos: only that path gets the
# console's photo cap (photos per form x bytes per photo + the text), every other path keeps
# `api.max_body_bytes`; the route checks each photo's own size again.
PHOTO_UPLOAD = re.compile(r"/console/tickets/[0-9]{1,18}/work")


def body_cap(path: str, config: Config) -> int:
    if PHOTO_UPLOAD.fullmatch(path) and config.console.enabled:
        return max(config.api.max_body_bytes, config.console.upload_bytes)
    return config.api.max_body_bytes


# Liveness must answer while the API is busy. A site poller's push queues for its own
# places instead (sites/centre.py PUSH_SLOTS): 200 pollers replaying at once held all 32 and
# every person's request was a 503 (bench/pollers.py), and a poller refused looks silent.
UNCOUNTED = frozenset({"/healthz", "/api/poller/v1/push"})
LONG_POLL_PATH = "/api/poller/v1/config"


# The console's live feeds (console/wallboard.py): one per open wallboard or discovery page,
# open for minutes, each a look at shared tiles once a second. Counted, 32 TVs and
# dispatchers' tabs held every place and each further page was a 503 (bench/console.py).
# uvicorn's `limit_concurrency` still bounds them (api/server.py).
LIVE_FEED = re.compile(r"/console/(?:wallboard|discovery/[^/]{1,200})/stream")


def is_counted(path: str, query: bytes) -> bool:
    """Whether a request takes one of `api.max_concurrent_requests`' places: not liveness,
    nor a site poller's push (it waits for a push place), nor what waits idle by design
    (a site poller's long poll, which would otherwise hold
    the whole budget with one per poller; the console's live feeds)."""
    if path in UNCOUNTED or LIVE_FEED.fullmatch(path):
        return False
    return not (path == LONG_POLL_PATH and query.startswith(b"wait="))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def bearer(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer …` header (scheme case-insensitive)."""
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class Guard:
    """ASGI middleware (app.add_middleware(Guard, tokens=…, config=…))."""

    def __init__(self, app: ASGIApp, tokens: TokenBook, config: Callable[[], Config]) -> None:
        self.app, self.tokens, self.config = app, tokens, config
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        config = self.config()
        settings = config.api
        path = scope["path"]
        counted = is_counted(path, scope.get("query_string", b""))
        if counted and self.in_flight >= settings.max_concurrent_requests:
            await _refuse(send, status.HTTP_503_SERVICE_UNAVAILABLE, "too many requests at once",
                          {"retry-after": "1"})  # fmt: skip
            return
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            # No stored text has a NUL (PostgreSQL refuses it): a query with one would fail
            # in the database, a 503 for what is the client's mistake.
            await _refuse(send, status.HTTP_422_UNPROCESSABLE_CONTENT, "the URL contains a NUL")
            return
        if path not in PUBLIC and not _own_authentication(path) and not self._authenticated(scope):
            await _refuse(send, status.HTTP_401_UNAUTHORIZED, "missing or invalid bearer token",
                          {"www-authenticate": "Bearer"})  # fmt: skip
            return
        cap = body_cap(path, config)
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _refuse(send, status.HTTP_413_CONTENT_TOO_LARGE,
                          f"the request body is larger than {cap} bytes")  # fmt: skip
            return
        await self._serve(scope, receive, send, cap, counted)

    def _authenticated(self, scope: Scope) -> bool:
        self.tokens.refresh(self.config())
        try:
            self.tokens.authenticate(bearer(scope))
        except HTTPException:
            return False
        return True

    async def _serve(self, scope: Scope, receive: Receive, send: Send, cap: int,
                     counted: bool) -> None:  # fmt: skip
        read = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal read, refused
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > cap and not started:
                    # Answer 413 here and tell the app the client left: whatever it sends
                    # after that is dropped. (An exception from receive would be turned into
                    # a 400 by the middleware between us and the route.)
                    refused = True
                    await _refuse(send, status.HTTP_413_CONTENT_TOO_LARGE,
                                  f"the request body is larger than {cap} bytes")  # fmt: skip
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        self.in_flight += counted
        try:
            await self.app(scope, counting_receive, watching_send)
        except Exception as exc:  # noqa: BLE001 - the one place every remaining error ends
            _log.error("api: unexpected error", method=scope.get("method"), path=scope["path"],
                       error=f"{type(exc).__name__}: {exc}"[:500], exc_info=True)  # fmt: skip
            if not started and not refused:
                await _refuse(send, status.HTTP_500_INTERNAL_SERVER_ERROR,
                              "internal error; the daemon's log has the details")  # fmt: skip
        finally:
            self.in_flight -= counted


async def _refuse(
    send: Send, code: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw: list[Any] = [(b"content-type", b"application/json"),
                      (b"content-length", str(len(body)).encode())]  # fmt: skip
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    # "connection: close": the unread body must not be taken for the next request.
    raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": code, "headers": raw})
    await send({"type": "http.response.body", "body": body})
