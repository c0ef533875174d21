"""Sign-in from WeCom's in-app browser in a real Chromium: the provider on another site
(localhost, the console on 127.0.0.1), so the SameSite rules apply as on a phone — the
state cookie must come back with the provider's redirect, and the session cookie with the
first page after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from monitord.store import Store
from tests.browser.conftest import ARTIFACTS, CHROMIUM
from tests.browser.test_console_browser import PHONE, Served
from tests.integration.test_console_oauth import enable, link
from tests.peers.oauth_providers import Providers, oauth_providers
from tests.support.consolelab import ConsoleLab
from tests.support.db import sqlite_only

database_url = sqlite_only
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")
WXWORK = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0 Mobile Safari/537.36 wxwork/4.1.30 MicroMessenger/7.0.1 Language/zh")  # fmt: skip


@pytest.fixture
def peer() -> Iterator[Providers]:
    with oauth_providers() as running:
        yield running


def test_an_engineer_signs_in_from_wecom_with_one_tap(
    store: Store, monkeypatch: pytest.MonkeyPatch, peer: Providers, browser: Browser
) -> None:
    lab = ConsoleLab(store, monkeypatch)
    served = Served(lab)
    try:
        enable(lab, peer, monkeypatch, base=served.url,
               authorize=peer.url.replace("127.0.0.1", "localhost"))  # fmt: skip
        link(lab, "eng", "wecom")
        peer.consent_page = True
        context = browser.new_context(**PHONE, user_agent=WXWORK)
        page = context.new_page()
        page.goto(f"{served.url}/console/login")
        button = page.locator("#oauth-wecom")
        expect(button).to_have_text("使用企业微信登录")
        page.screenshot(path=str(ARTIFACTS / "login-wecom-phone-zh.png"))
        button.tap()
        expect(page).to_have_url(f"{served.url}/console/mine", timeout=10_000)
        assert [s for s, _ in peer.calls] == ["gettoken", "getuserinfo"]
        context.close()
    finally:
        served.stop()
