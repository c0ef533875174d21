"""The console in a real browser: Debian's chromium driven by Playwright (no browser
download), at phone size (412×839, touch) and TV size, in zh. Screenshots go to
tests/artifacts/ (ignored by git) to be looked at."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from monitord.store import Store
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.browser.conftest import ARTIFACTS, CHROMIUM
from tests.support.consolelab import PASSWORD, ConsoleLab

PHONE = {"viewport": {"width": 412, "height": 839}, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}  # fmt: skip
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")


class Served:
    """The lab's app on a loopback port, in a thread with its own event loop."""

    def __init__(self, lab: ConsoleLab) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(lab.app, log_config=None, access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})
        self.thread.start()
        for _ in range(100):  # bounded: up in well under 10 s
            if self.server.started:
                break
            time.sleep(0.1)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def lab(store: Store, monkeypatch: pytest.MonkeyPatch) -> ConsoleLab:
    return ConsoleLab(store, monkeypatch)


@pytest.fixture
def served(lab: ConsoleLab) -> Iterator[Served]:
    made = Served(lab)
    yield made
    made.stop()


def sign_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    submit = page.locator("button[type=submit]")
    submit.tap() if page.context.browser and _touch(page) else submit.click()


def _touch(page: Page) -> bool:
    return bool(page.evaluate("'ontouchstart' in window"))


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)


def down(lab: ConsoleLab, device: str) -> int:
    """The lab's device goes DOWN: in a thread, as Playwright's sync API holds this one's loop."""
    found: list[int] = []
    thread = threading.Thread(target=lambda: found.append(asyncio.run(lab.down(device))))
    thread.start()
    thread.join(30)
    return found[0]


def work(lab: ConsoleLab, ticket: int, *kinds: EventKind) -> None:
    for kind in kinds:
        tickets.append(lab.store, ticket, kind, "eng", lab.clock.now())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_engineer_signs_in_on_a_phone_and_acknowledges(
    lab: ConsoleLab, served: Served, browser: Browser
) -> None:
    ticket = down(lab, "nvr")
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "eng")
    expect(page).to_have_url(f"{served.url}/console/mine")
    assert no_horizontal_scroll(page)
    shot(page, "mine-phone-zh")
    page.locator(f"a[href='/console/tickets/{ticket}']").tap()
    expect(page.locator("button[value=ack]")).to_have_text("接单")
    shot(page, "ticket-phone-zh")
    page.locator("button[value=ack]").tap()
    expect(page.locator("#status")).to_contain_text("已接单")
    assert no_horizontal_scroll(page)
    shot(page, "acknowledged-phone-zh")
    events = lab.store.tickets.events(ticket)
    assert [(e.kind, e.by) for e in events][-1] == ("acknowledged", "eng")
    context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_customer_rejects_with_a_comment_then_approves_with_a_name(
    lab: ConsoleLab, served: Served, browser: Browser
) -> None:
    ticket = down(lab, "nvr")
    work(lab, ticket, EventKind.ACKNOWLEDGED, EventKind.ON_SITE, EventKind.RESOLVED)
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "cust-a")
    expect(page).to_have_url(f"{served.url}/console/tickets")
    page.locator(f"a[href='/console/tickets/{ticket}']").tap()
    shot(page, "signoff-phone-zh")
    page.locator("button[value=reject]").tap()
    expect(page.locator("p.error")).to_have_text("不通过时必须填写意见。")
    page.fill("textarea[name=comment]", "3号摄像机仍无图像")
    page.locator("button[value=reject]").tap()
    expect(page.locator("#status")).to_contain_text("待接单")
    assert lab.store.tickets.get(ticket)[0].status == "open"  # type: ignore[index]
    work(lab, ticket, EventKind.ACKNOWLEDGED, EventKind.ON_SITE, EventKind.RESOLVED)
    page.reload()
    page.fill("input[name=signer]", "王经理")
    page.locator("button[value=approve]").tap()
    expect(page.locator("#status")).to_contain_text("已验收")
    assert no_horizontal_scroll(page)
    shot(page, "approved-phone-zh")
    last = lab.store.tickets.events(ticket)[-1]
    assert (last.kind, last.by, last.data["signed_by"]) == ("verified", "cust-a", "王经理")
    context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_wallboard_updates_live_and_says_when_the_server_is_gone(
    lab: ConsoleLab, served: Served, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, served.url, "disp")
    expect(page).to_have_url(f"{served.url}/console/wallboard")
    tile = page.locator("[data-site=s2]")
    expect(tile).not_to_contain_text("A:1")
    down(lab, "cam-x")
    expect(tile).to_contain_text("A:1", timeout=5000)
    shot(page, "wallboard-tv-zh")
    expect(page.locator("#stale")).to_be_hidden()
    served.stop()
    expect(page.locator("#stale")).to_be_visible(timeout=15000)
    expect(page.locator("#stale")).to_contain_text("连接已断开")
    shot(page, "wallboard-stale-tv-zh")
    context.close()
