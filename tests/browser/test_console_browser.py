"""The console in a real browser: Debian's chromium driven by Playwright (no browser
download), at phone size (412×839, touch) and TV size, in zh. Screenshots go to
tests/artifacts/ (ignored by git) to be looked at."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from monitord.config import Config
from monitord.console.links import Links
from monitord.notify.dispatcher import Dispatcher
from monitord.store import Store
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.browser.conftest import ARTIFACTS, CHROMIUM
from tests.peers.notify import Mailbox, free_port, smtp_server
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


def work_step(page: Page, step: str, text: str = "") -> None:
    """Take a milestone as an engineer does: unfold its form if it is folded, write its
    report (the report steps require one), and tap its button."""
    fold = page.locator(f"details.step:has(button[value={step}])")
    if fold.get_attribute("open") is None:
        fold.locator("summary").tap()
    if text:
        fold.locator("textarea[name=text]").fill(text)
    fold.locator(f"button[value={step}]").tap()


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


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_customer_reports_a_fault_and_the_engineer_works_it_from_the_mailed_link(
    lab: ConsoleLab, served: Served, browser: Browser, tmp_path: Path
) -> None:
    port = free_port()
    data = lab.config.model_dump(by_alias=True, mode="json", exclude_none=True)
    data["notify"] = {**data["notify"], **paging(port)}
    data["state_dir"] = str(tmp_path)  # the work report's photo is kept here
    lab.config = Config.model_validate(data)
    customer = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = customer.new_page()
    sign_in(page, served.url, "cust-a")
    page.locator("a[href='/console/report']").tap()
    page.fill("textarea[name=text]", "大门摄像头黑屏")
    page.locator("form.stack button").tap()
    expect(page.locator("p.ok")).to_contain_text("已报修")
    expect(page.locator(".clocks")).to_contain_text("首次答复")
    assert no_horizontal_scroll(page)
    shot(page, "reported-phone-zh")
    customer.close()
    mailbox = Mailbox()
    with smtp_server(mailbox, port):
        deliver(lab)
    [body] = mailbox.bodies
    found = re.search(r"/console/t/[\w-]{43}", body)
    assert found, body
    engineer = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = engineer.new_page()
    page.goto(served.url + found.group(0))  # from the mail, not signed in
    shot(page, "deep-link-phone-zh")
    [ticket] = lab.store.tickets.recent()
    assert lab.store.tickets.get(ticket.id)[0].status == "open"  # type: ignore[index]
    page.locator("button[value=ack]").tap()
    expect(page.locator("#status")).to_contain_text("已接单")
    work_step(page, "onsite")
    expect(page.locator("#status")).to_contain_text("已到场")
    fold = page.locator("details.step[data-step=resolve]")
    fold.locator("summary").tap()
    fold.locator("input[type=file]").set_input_files([camera_photo(tmp_path)])
    work_step(page, "resolve", "更换摄像头电源适配器，画面恢复")
    expect(page.locator("#status")).to_contain_text("已修复")
    expect(page.locator("img.thumb")).to_have_count(1)  # the photo, in the ticket's log
    shot(page, "resolved-with-photo-phone-zh")
    events = lab.store.tickets.events(ticket.id)
    kinds = [(e.kind, e.by) for e in events]
    assert kinds[1:] == [("acknowledged", "eng"), ("on_site", "eng"), ("resolved", "eng")]
    [kept] = events[-1].data["photos"]
    with Image.open(tmp_path / "photos" / str(ticket.id) / kept["name"]) as img:
        assert img.size == (1600, 900)  # shrunk by the page from the camera's 4000×2250
    engineer.close()


def camera_photo(folder: Path) -> Path:
    path = folder / "camera.jpg"
    Image.new("RGB", (4000, 2250), "seagreen").save(path, "JPEG")
    return path


def paging(port: int) -> dict[str, Any]:
    return {
        "channels": [{"type": "email", "name": "mail", "host": "127.0.0.1", "port": port,
                      "security": "none", "sender": "monitord@example.com", "timeout": 5}],
        "oncall": {
            "people": [{"id": "li", "name": "李工", "email": "li@example.com",
                        "console_user": "eng"}],
            "rotations": [{"id": "duty", "contracts": ["seed-000"], "handover": "weekly",
                           "start": "2026-01-05", "people": ["li"]}],
        },
        "escalation": [{"id": "calls", "classes": ["hotline"], "steps": [
            {"after": "0s", "targets": ["oncall"], "channels": ["mail"]}]}],
    }  # fmt: skip


def deliver(lab: ConsoleLab) -> None:
    """One pass of the real dispatcher (in a thread: Playwright's sync API holds this one's
    loop), minting the one-time links as the daemon does, once the storm-grouping wait
    for a hotline call (3 s) is over."""
    links = Links(lab.store, lab.config.console, lab.clock.now)
    notifier = Dispatcher(lab.store, lab.clock, lab.config.notify, signin=links.mint)

    async def later() -> None:
        await lab.clock.advance(5)
        await notifier.pass_once()

    thread = threading.Thread(target=lambda: asyncio.run(later()))
    thread.start()
    thread.join(30)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_engineer_opens_the_device_page_sees_its_chart_and_probes_it_now(
    lab: ConsoleLab, served: Served, browser: Browser
) -> None:
    from monitord.prevention import history as H
    from monitord.store.records import MetricHour

    # The device answers on loopback: "probe now" sends real echo requests to 127.0.0.1.
    here = tuple(d.model_copy(update={"address": "127.0.0.1"}) for d in lab.config.devices)
    lab.config = lab.config.model_copy(update={"devices": here})
    now_hour = H.hour_of(lab.clock.now())
    lab.store.metric_history.add([MetricHour("nvr", H.LOSS, "", now_hour - 36 + i, 1,
                                             0.5 + 0.2 * i, 0.5, 0.5) for i in range(36)])  # fmt: skip
    ticket = down(lab, "nvr")
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "eng")
    expect(page).to_have_url(f"{served.url}/console/mine")
    page.goto(f"{served.url}/console/tickets/{ticket}")
    page.locator("a[href='/console/devices/s1/nvr']").first.tap()
    chart = page.locator(f"svg[data-chart='{H.LOSS}:']")
    expect(chart).to_be_visible()
    expect(chart.locator("polyline.forecast")).to_have_count(1)
    assert chart.bounding_box()["width"] <= 412  # type: ignore[index]
    assert no_horizontal_scroll(page)
    page.locator("button[name=go]").tap()
    expect(page.locator("#probe-result")).to_contain_text("ICMP: 正常")
    expect(page.locator("[role=status].ok")).to_contain_text("检测完成")
    assert no_horizontal_scroll(page)
    shot(page, "device-phone-zh")
    context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_dispatcher_starts_a_maintenance_window_from_a_phone(
    lab: ConsoleLab, served: Served, browser: Browser
) -> None:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "disp")
    expect(page).to_have_url(f"{served.url}/console/wallboard")
    page.goto(f"{served.url}/console/ops")
    page.select_option("select[name=site]", "s1")
    page.fill("input[name=reason][required]", "交换机固件升级")
    page.locator("form[action='/console/ops/windows'] button").tap()
    expect(page.locator("tr.window")).to_contain_text("交换机固件升级")
    assert no_horizontal_scroll(page)
    shot(page, "ops-phone-zh")
    context.close()
