"""What every console page shares: who is signed in, the CSRF check, the form body, the
language, rendering, and the cookies.

Anonymous visitors are sent to the sign-in page; a signed-in user whose role may not use a
route gets 403; another tenant's ticket is 404 (it tells a customer nothing). Every POST
needs the session's CSRF token in its form, besides SameSite=Strict cookies: either alone
would do today, both survive a browser or proxy that gets one of them wrong.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs

import jinja2
from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from monitord.clock import Clock
from monitord.config import Config
from monitord.console.accounts import Accounts, AttemptLimiter, Role, Session
from monitord.console.host import Host
from monitord.console.oauth_state import States
from monitord.console.oauth_wire import WecomTokens
from monitord.console.wallboard import Board
from monitord.present import i18n
from monitord.present.devices import local
from monitord.sites.commands import Commands
from monitord.store import Store

T = TypeVar("T")
COOKIE: Final = "monitord_session"
LANG_COOKIE: Final = "monitord_lang"
LOGIN_CSRF: Final = "monitord_login_csrf"
MAX_FORM: Final = 16 * 1024  # bytes; the console's forms are a few fields of text
# Pages load only this origin's script and style; forms post only here; nobody frames us.
POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a missing word or value fails the test, not the page
)


class SignInFirst(Exception):
    """Raised by a route's guard for an anonymous visitor: answered by a redirect."""


@dataclass
class Console:
    """The console's state on the app: store, configuration, clock, accounts."""

    store: Store
    config: Callable[[], Config]
    clock: Clock
    limiter: AttemptLimiter
    # In-app sign-in (console/oauth.py): pending states, WeCom's cached app token.
    states: States = field(default_factory=States)
    wecom_tokens: WecomTokens = field(default_factory=WecomTokens)
    host: Host | None = None  # the running daemon's (console/host.py)
    board: Board = field(default_factory=Board)  # the wallboard's shared tiles

    def accounts(self) -> Accounts:
        return Accounts(self.store, self.config().console)


def console_of(request: Request) -> Console:
    found: Console = request.app.state.console
    if not found.config().console.enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return found


def app_shared(request: Request, name: str, make: Callable[[], T]) -> T:
    """The app's one `name` (a console desk), made on first use: the console's state needs
    no field for each."""
    found = getattr(request.app.state, name, None)
    if found is None:
        found = make()
        setattr(request.app.state, name, found)
    return found


def commands_of(request: Request) -> Commands | None:
    """The poller link's command desk (sites/commands.py: probe now and discover at a site
    poller), when this app serves the link (sites/routes.py); the daemon always does."""
    found = getattr(request.app.state, "commands", None)
    return found if isinstance(found, Commands) else None


def lang_of(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in ("zh", "en"):
        return chosen
    ranked = []
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            ranked.append((-float(q or 1), tag.lower()))
        except ValueError:
            continue
    for _, tag in sorted(ranked):
        if tag.startswith(("zh", "en")):
            return tag[:2]
    return "en"


async def current(request: Request) -> Session | None:
    console = console_of(request)
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await asyncio.to_thread(console.accounts().session, token, console.clock.now())


def guard(*roles: Role) -> Callable[[Request], Any]:
    """A dependency: the signed-in session of one of `roles` (anonymous -> sign-in page)."""

    async def check(request: Request) -> Session:
        session = await current(request)
        if session is None:
            raise SignInFirst
        if session.user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "forbidden")
        return session

    return check


async def form(request: Request, limit: int = MAX_FORM) -> dict[str, str]:
    """The urlencoded form of a POST, capped at `limit` bytes; each field's first value."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "form too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "form too large")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send a form")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def posted(*roles: Role, limit: int = MAX_FORM) -> Callable[[Request], Any]:
    """A dependency for a POST: the session (as `guard`) and its form, CSRF checked."""
    session_of = guard(*roles)

    async def check(request: Request) -> tuple[Session, dict[str, str]]:
        session = await session_of(request)
        fields = await form(request, limit)
        if not hmac.compare_digest(fields.get("csrf", "").encode(), session.csrf.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "csrf")
        return session, fields

    return check


def _helpers(lang: str, console: Console) -> dict[str, Any]:
    def w(key: str) -> str:
        return i18n.word(i18n.CONSOLE, key, lang)

    def when(at: dt.datetime | None, tz: str = "Asia/Shanghai") -> str:
        return local(at, tz) if at else "-"

    def left(seconds: float | None) -> str:
        """A countdown as the server sees it; the page's script keeps it ticking."""
        if seconds is None:
            return "-"
        sign, s = ("-" if seconds < 0 else ""), int(abs(seconds))
        return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"

    return {"w": w, "when": when, "left": left, "lang": lang,
            "now": console.clock.now().isoformat()}  # fmt: skip


def fragment(template: str, lang: str, values: Mapping[str, Any], console: Console) -> str:
    """A piece of a page (the wallboard's grid) for the live feed."""
    return _templates.get_template(template).render(**_helpers(lang, console), **values)


def render(
    request: Request,
    template: str,
    session: Session | None,
    values: Mapping[str, Any],
    code: int = 200,
) -> HTMLResponse:
    console: Console = request.app.state.console
    page = _templates.get_template(template).render(
        **_helpers(lang_of(request), console), session=session, path=request.url.path, **values
    )
    response = HTMLResponse(page, code)
    response.headers["content-security-policy"] = POLICY
    response.headers["x-frame-options"] = "DENY"
    response.headers["cache-control"] = "no-store"  # pages hold tenants' data
    response.headers["referrer-policy"] = "same-origin"
    return response


def set_cookie(response: Response, console: Console, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/console",
        secure=console.config().console.secure_cookies,
        httponly=True,
        samesite="strict",
    )


def client_of(request: Request) -> str:
    return request.client.host if request.client else "-"
