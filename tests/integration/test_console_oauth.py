"""Sign-in from the WeCom / DingTalk / Feishu in-app browser, against a peer on loopback that
speaks their documented wire format (tests/peers/oauth_providers.py): the code flow to a
console session, the state's binding, linking, refusals, and a provider that fails."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from monitord import log
from monitord.config.oauth import OAuthSettings
from monitord.console.accounts import Accounts
from monitord.console.web import COOKIE
from tests.peers.notify import free_port
from tests.peers.oauth_providers import DINGTALK, FEISHU, WECOM, Providers, oauth_providers
from tests.support.consolelab import ConsoleLab, csrf_of
from tests.support.db import sqlite_only

database_url = sqlite_only  # the sign-in is under test here; the store's table is tested alone

SECRETS = {"wecom": WECOM["secret"], "dingtalk": DINGTALK["secret"], "feishu": FEISHU["secret"]}
WHO = {"wecom": "zhangsan", "dingtalk": "dt-union-li",
       "feishu": "ou_7d8a6e6df7621556ce0d21922b676706"}  # fmt: skip


@pytest.fixture
def peer() -> Iterator[Providers]:
    with oauth_providers() as running:
        yield running


def enable(console: ConsoleLab, peer: Providers, monkeypatch: pytest.MonkeyPatch,
           api: str | None = None, timeout: float = 2.0, base: str = "http://console",
           authorize: str | None = None) -> None:  # fmt: skip
    for provider, secret in SECRETS.items():
        monkeypatch.setenv(f"{provider.upper()}_SECRET", secret)
    bases = {"api_base": api or peer.url, "authorize_base": authorize or peer.url}
    oauth = OAuthSettings.model_validate({
        "wecom": {"enabled": True, "corp_id": WECOM["corp_id"], "agent_id": WECOM["agent_id"],
                  "secret": {"env": "WECOM_SECRET"}, **bases},
        "dingtalk": {"enabled": True, "client_id": DINGTALK["client_id"],
                     "secret": {"env": "DINGTALK_SECRET"}, **bases},
        "feishu": {"enabled": True, "app_id": FEISHU["app_id"], "secret": {"env": "FEISHU_SECRET"},
                   **bases},
        "timeout": timeout,
    })  # fmt: skip
    settings = console.config.console.model_copy(update={"oauth": oauth})
    # The address the providers send the browser back to: the console's own, as behind a proxy.
    api = console.config.api.model_copy(update={"base_url": base})
    console.config = console.config.model_copy(update={"console": settings, "api": api})


def link(console: ConsoleLab, name: str, provider: str) -> None:
    accounts = Accounts(console.store, console.config.console)
    accounts.link(name, provider, WHO[provider], console.clock.now())


async def provider_says(start: httpx.Response) -> str:
    """The browser at the provider: its authorize page sends it back with code and state."""
    assert start.status_code == 303, start.text
    async with httpx.AsyncClient() as net:
        consent = await net.get(start.headers["location"])
    assert consent.status_code == 302, consent.text
    return consent.headers["location"]


async def sign_in(console: ConsoleLab, provider: str, browser: httpx.AsyncClient | None = None,
                  agent: str = "") -> tuple[httpx.AsyncClient, httpx.Response]:  # fmt: skip
    browser = browser or console.browser()
    headers = {"user-agent": agent} if agent else {}
    back = await provider_says(await browser.get(f"/console/oauth/{provider}/start",
                                                 headers=headers))  # fmt: skip
    return browser, await browser.get(back, headers=headers)


def reason(page: httpx.Response) -> str:
    found = re.search(r'id="reason">([^<]*)<', page.text)
    assert found, page.text[:400]
    return found.group(1)


async def test_each_provider_signs_its_linked_user_into_a_normal_session(
    console: ConsoleLab, peer: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    enable(console, peer, monkeypatch)
    for name, provider, home in (("eng", "wecom", "/console/mine"),
                                 ("disp", "dingtalk", "/console/wallboard"),
                                 ("cust-a", "feishu", "/console/tickets")):  # fmt: skip
        link(console, name, provider)
        browser, done = await sign_in(console, provider)
        assert done.status_code == 200, (provider, done.text[:300])
        # A same-site step forward, so the Strict session cookie goes with the next request.
        assert 'http-equiv="refresh" content="0;url=/console/"' in done.text
        assert COOKIE in browser.cookies and "monitord_oauth" not in browser.cookies
        cookie = next(v for k, v in done.headers.multi_items() if v.startswith(COOKIE))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert (await browser.get("/console/")).headers["location"] == home
        page = await browser.get(home)
        assert page.status_code == 200 and f"{name} person" in page.text
        # CSRF is as for any session: a POST without the token is refused.
        assert (await browser.post("/console/logout", data={"csrf": "x"})).status_code == 403
        out = await browser.post("/console/logout", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
    # Each step carried what its document asks for.
    gettoken = next(q for s, q in peer.calls if s == "gettoken")
    assert gettoken == {"corpid": WECOM["corp_id"], "corpsecret": WECOM["secret"]}
    token = next(b for s, b in peer.calls if s == "oauth/token")
    assert token["redirect_uri"] == "http://console/console/oauth/feishu/callback"
    assert next(b for s, b in peer.calls if s == "userAccessToken")["grantType"] == (
        "authorization_code"
    )
    # WeCom's app token is cached, as WeCom asks: a second sign-in does not fetch another.
    await sign_in(console, "wecom")
    assert peer.steps("gettoken") == 1 and peer.steps("getuserinfo") == 2


async def test_a_bad_state_an_unlinked_identity_and_a_disabled_user_are_refused(
    console: ConsoleLab, peer: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    enable(console, peer, monkeypatch)
    link(console, "eng", "wecom")
    forged = await console.browser().get("/console/oauth/wecom/callback?code=x&state=abc.def")
    assert forged.status_code == 400 and "start again" in reason(forged)
    # Carried to another browser (a link pasted elsewhere): refused, and the owner's still works.
    mine = console.browser()
    back = await provider_says(await mine.get("/console/oauth/wecom/start"))
    other = await console.browser().get(back)
    assert other.status_code == 400 and COOKIE not in other.cookies
    assert (await mine.get(back)).status_code == 200
    # Used once: the same callback again is refused before any call to the provider.
    calls = len(peer.calls)
    again = await mine.get(back)
    assert again.status_code == 400 and len(peer.calls) == calls
    # One provider's state is no good for another's callback.
    browser = console.browser()
    back = await provider_says(await browser.get("/console/oauth/wecom/start"))
    swapped = back.replace("/oauth/wecom/", "/oauth/dingtalk/")
    assert (await browser.get(swapped)).status_code == 400
    # Too late: the state lives `state_ttl`.
    browser = console.browser()
    back = await provider_says(await browser.get("/console/oauth/wecom/start"))
    await console.clock.advance(console.config.console.oauth.state_ttl.total_seconds() + 1)
    late = await browser.get(back)
    assert late.status_code == 400 and COOKIE not in browser.cookies
    # The user said no at the provider.
    browser = console.browser()
    back = await provider_says(await browser.get("/console/oauth/feishu/start"))
    cancelled = await browser.get(re.sub(r"code=[^&]+", "error=access_denied", back))
    assert cancelled.status_code == 400 and "cancelled" in reason(cancelled)
    # An identity nobody linked, then a disabled user: refused, nobody enrolled.
    before = len(console.store.accounts.users())
    browser, refused = await sign_in(console, "dingtalk")
    assert refused.status_code == 403 and COOKIE not in browser.cookies
    # The page names the id the administrator links (no account is made for it).
    assert "dt-union-li" in reason(refused) and "not linked" in reason(refused)
    assert len(console.store.accounts.users()) == before
    zh = console.browser()
    zh.headers["accept-language"] = "zh-CN"
    _, page = await sign_in(console, "dingtalk", zh)
    assert "尚未关联" in reason(page) and "钉钉" in page.text
    link(console, "eng", "dingtalk")
    Accounts(console.store, console.config.console).disable("eng")
    browser, disabled = await sign_in(console, "dingtalk")
    assert disabled.status_code == 403 and "disabled" in reason(disabled)
    assert COOKIE not in browser.cookies


async def test_a_failing_provider_shows_a_clear_page_and_never_the_secret(
    console: ConsoleLab, peer: Providers, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    link(console, "eng", "wecom")
    link(console, "eng", "feishu")
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    expected = {"down": "unreachable", "slow": "timed out", "garbage": "not a JSON object",
                "error": "HTTP 503", "secret": "errcode 40001"}  # fmt: skip
    caplog.set_level(logging.DEBUG)  # httpx writes each URL at INFO: WeCom's has the secret
    for failure, words in expected.items():
        enable(console, peer, monkeypatch, api=closed if failure == "down" else None, timeout=0.3)
        console.app.state.console.wecom_tokens.held.clear()  # each case fetches WeCom's token
        peer.break_step.clear()
        if failure in ("slow", "garbage", "error"):
            peer.break_step.update({"getuserinfo": failure, "oauth/token": failure})
        if failure == "secret":
            monkeypatch.setenv("WECOM_SECRET", "not the secret")
            monkeypatch.delenv("FEISHU_SECRET")
        stream = io.StringIO()
        log.configure("debug", json=True, stream=stream)
        try:
            pages = [await sign_in(console, p) for p in ("wecom", "feishu")]
        finally:
            log.configure("info")
        for (browser, page), provider in zip(pages, ("wecom", "feishu"), strict=True):
            assert page.status_code == 502, (failure, provider, page.text[:300])
            assert "did not answer as expected" in reason(page) and COOKIE not in browser.cookies
        logged = stream.getvalue()
        written = logged + caplog.text + "".join(p.text for _, p in pages)
        assert "console oauth sign-in failed" in logged
        for secret in SECRETS.values():
            assert secret not in written, failure
        assert words in logged and "wecom" in logged, (failure, logged)
    assert "corpsecret=***" in caplog.text  # the filter, not silence, kept it out


async def test_the_login_page_offers_enabled_providers_first_in_their_own_app(
    console: ConsoleLab, peer: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = await console.browser().get("/console/login")
    assert "/console/oauth/" not in plain.text  # off by default
    assert (await console.browser().get("/console/oauth/wecom/start")).status_code == 404
    enable(console, peer, monkeypatch)
    desk = (await console.browser().get("/console/login")).text
    assert all(f"/console/oauth/{p}/start" in desk for p in SECRETS)
    assert desk.index('action="/console/login"') < desk.index("oauth-wecom")
    agents = {"wecom": "Mozilla/5.0 (Linux; Android 14) wxwork/4.1.30 MicroMessenger/7.0.1",
              "dingtalk": "Mozilla/5.0 (iPhone) AliApp(DingTalk/7.6.25) Channel/201200",
              "feishu": "Mozilla/5.0 (Linux; Android 13) Lark/7.20.5 LarkLocale/zh_CN"}  # fmt: skip
    for provider, agent in agents.items():
        page = (await console.browser().get("/console/login", headers={"user-agent": agent})).text
        first = page.index(f"oauth-{provider}")
        assert first < page.index('action="/console/login"'), provider
        assert 'class="big primary oauth"' in page[first - 40 : first]
        others = [p for p in SECRETS if p != provider]
        assert all(page.index(f"oauth-{p}") > page.index('action="/console/login"') for p in others)
    # ... and signing in from there lands where a password would.
    link(console, "eng", "feishu")
    browser, done = await sign_in(console, "feishu", agent=agents["feishu"])
    assert done.status_code == 200 and (await browser.get("/console/mine")).status_code == 200


def test_the_settings_refuse_an_enabled_app_without_its_ids_or_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        OAuthSettings.model_validate({"wecom": {"enabled": True, "corp_id": "a", "agent_id": "1"}})
    with pytest.raises(ValueError, match="corp_id"):
        OAuthSettings.model_validate({"wecom": {"enabled": True, "secret": {"env": "X"}}})
    with pytest.raises(ValueError, match="api_base"):
        OAuthSettings.model_validate({"feishu": {"api_base": "ftp://x"}})
    assert OAuthSettings().enabled() == ()
