"""Sign-in from the WeCom / DingTalk / Feishu in-app browser by their OAuth code flow.

`start` sends the browser to the provider with a state bound to it (console/oauth_state.py);
`callback` checks the state, exchanges the code for the provider's user (console/
oauth_wire.py), finds the console user the operator linked to it (`monitord users link`)
and opens the same server-side session a password opens. Nobody is created here: an
identity nobody linked is refused, so a customer's staff cannot enrol themselves.

The state cookie is SameSite=Lax, not Strict like the session's: the callback arrives as a
navigation from the provider's site, and a Strict cookie would not come with it. For the
same reason the callback answers with a page that moves on by itself (a same-site
navigation) rather than a redirect, which a browser would still count as cross-site and
send without the new session cookie.
"""

from __future__ import annotations

import asyncio
import re
from typing import Final

import httpx
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from monitord import log
from monitord.config.oauth import OAuthSettings, Provider
from monitord.config.secrets import SecretUnavailable
from monitord.console import oauth_wire as wire
from monitord.console.web import COOKIE, Console, client_of, console_of, render, set_cookie

_log = log.get("monitord.console")
STATE_COOKIE: Final = "monitord_oauth"
PUBLIC: Final = {("GET", "/console/oauth/{provider}/start"),
                 ("GET", "/console/oauth/{provider}/callback")}  # fmt: skip
# The in-app browsers' user agents: WeCom's says "wxwork", Feishu's "Lark" or "Feishu".
IN_APP: Final = {
    "wecom": re.compile(r"wxwork", re.IGNORECASE),
    "dingtalk": re.compile(r"DingTalk", re.IGNORECASE),
    "feishu": re.compile(r"Lark|Feishu", re.IGNORECASE),
}


def buttons(request: Request, settings: OAuthSettings) -> tuple[str | None, list[str]]:
    """The provider whose in-app browser this is (its button goes first), and the others."""
    agent = request.headers.get("user-agent", "")
    enabled = list(settings.enabled())
    here = next((p for p in enabled if IN_APP[p].search(agent)), None)
    return here, [p for p in enabled if p != here]


def _provider(console: Console, provider: str) -> Provider:
    settings = console.config().console.oauth
    found = next((p for p in settings.enabled() if p == provider), None)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return found


def _redirect(request: Request, console: Console, provider: str) -> str:
    # Providers compare it with the app's registered address: behind a proxy, api.base_url.
    base = console.config().api.base_url or str(request.base_url)
    return f"{base.rstrip('/')}/console/oauth/{provider}/callback"


def _refused(
    request: Request, provider: str, reason: str, code: int, subject: str = ""
) -> Response:
    values = {"provider": provider, "reason": reason, "subject": subject}
    return render(request, "oauth_refused.html", None, values, code)


async def _identity(console: Console, provider: Provider, secret: str, code: str,
                    redirect: str) -> wire.Identity:  # fmt: skip
    settings = console.config().console.oauth
    async with httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False) as client:
        if provider == "wecom":
            return await wire.wecom(settings.wecom, secret, code, client, console.wecom_tokens,
                                    console.clock.now())  # fmt: skip
        if provider == "dingtalk":
            return await wire.dingtalk(settings.dingtalk, secret, code, client)
        return await wire.feishu(settings.feishu, secret, code, redirect, client)


def oauth_router() -> APIRouter:
    r = APIRouter(prefix="/console", include_in_schema=False)

    @r.get("/oauth/{provider}/start")
    async def start(request: Request, provider: str) -> Response:
        console = console_of(request)
        chosen = _provider(console, provider)
        settings = console.config().console.oauth
        state, browser = console.states.issue(chosen, console.clock.now(), settings.state_ttl)
        url = wire.authorize_url(chosen, settings.app(chosen),
                                 _redirect(request, console, chosen), state)  # fmt: skip
        response = RedirectResponse(url, status.HTTP_303_SEE_OTHER)
        response.set_cookie(STATE_COOKIE, browser, max_age=int(settings.state_ttl.total_seconds()),
                            path="/console/oauth", secure=console.config().console.secure_cookies,
                            httponly=True, samesite="lax")  # fmt: skip
        response.headers["cache-control"] = "no-store"
        return response

    @r.get("/oauth/{provider}/callback")
    async def callback(request: Request, provider: str, state: str = "", code: str = "",
                       authCode: str = "", error: str = "") -> Response:  # fmt: skip
        # authCode: DingTalk's name for the code in its callback.
        console = console_of(request)
        chosen = _provider(console, provider)
        now, settings = console.clock.now(), console.config().console
        if not console.limiter.allow(client_of(request), now, settings.attempts_per_minute):
            return _refused(request, chosen, "slow_down", status.HTTP_429_TOO_MANY_REQUESTS)
        browser = request.cookies.get(STATE_COOKIE, "")
        if not console.states.redeem(chosen, state, browser, now):
            _log.info("console oauth state refused", provider=chosen, client=client_of(request))
            return _refused(request, chosen, "oauth_state", status.HTTP_400_BAD_REQUEST)
        code = code or authCode
        if error or not code:
            return _refused(request, chosen, "oauth_cancelled", status.HTTP_400_BAD_REQUEST)
        app = settings.oauth.app(chosen)
        secret = ""
        try:
            assert app.secret is not None  # config/oauth.py: an enabled app has one
            secret = app.secret.resolve().get_secret_value()
            identity = await _identity(console, chosen, secret, code[:512],
                                       _redirect(request, console, chosen))  # fmt: skip
        except (SecretUnavailable, wire.WireError) as exc:
            why = str(exc).replace(secret, "***") if secret else str(exc)
            _log.warning("console oauth sign-in failed", provider=chosen, error=why)
            return _refused(request, chosen, "oauth_provider", status.HTTP_502_BAD_GATEWAY)
        record = await asyncio.to_thread(
            console.store.accounts.identity_user, chosen, identity.subject
        )
        if record is None:
            _log.info("console oauth identity not linked", provider=chosen,
                      subject=identity.subject[:128])  # fmt: skip
            return _refused(request, chosen, "oauth_unlinked", status.HTTP_403_FORBIDDEN,
                            identity.subject[:128])  # fmt: skip
        if record.disabled:
            _log.info("console oauth sign-in of a disabled user", user=record.name)
            return _refused(request, chosen, "oauth_disabled", status.HTTP_403_FORBIDDEN)
        token, session = await asyncio.to_thread(console.accounts().open_session, record, now)
        _log.info("console sign-in", user=session.user.name, role=session.user.role.value,
                  via=chosen)  # fmt: skip
        response = render(request, "oauth_done.html", None, {"target": "/console/"})
        response.headers["referrer-policy"] = "no-referrer"  # the code is in this URL
        set_cookie(response, console, COOKIE, token, int(settings.session_ttl.total_seconds()))
        response.delete_cookie(STATE_COOKIE, path="/console/oauth")
        return response

    return r
