"""A site's discovery in a real browser against a real daemon: on a desktop (1920×1080) a
manager starts a run, watches it live, applies part of the proposal; on a phone (412 px) a
dispatcher runs it again and applies the rest. Screenshots: console-discovery-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM
from tests.browser.test_console_browser import PHONE, no_horizontal_scroll, shot, sign_in
from tests.support.disc_console import DiscLab

DESKTOP = {"viewport": {"width": 1920, "height": 1080}, "locale": "en-GB"}
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[DiscLab]:
    with DiscLab(tmp_path, listen=0.6) as made:  # long enough to see the run under way
        yield made


def start_and_watch(page: Page, name: str, tap: bool) -> None:
    button = page.locator("#start")
    button.tap() if tap else button.click()
    expect(page.locator("#grid .probed")).to_be_visible(timeout=5000)
    shot(page, f"discovery-progress{name}")
    # The feed's `done` loads the page again with the proposal: no reload by hand.
    expect(page.locator("#apply")).to_be_visible(timeout=20000)
    shot(page, f"discovery-proposal{name}")


def test_start_review_and_apply_on_a_desktop_then_on_a_phone(
    browser: Browser, lab: DiscLab
) -> None:
    desk = browser.new_context(**DESKTOP)  # type: ignore[arg-type]
    page = desk.new_page()
    sign_in(page, lab.url, "mgr")
    page.wait_for_url("**/console/wallboard")
    page.goto(f"{lab.url}/console/devices/s1")
    page.click("#discover")
    start_and_watch(page, "", tap=False)
    expect(page.locator(".ch-missing")).to_contain_text("lost-1")
    # Only the new camera this time: the renumbered gate waits for the phone.
    for box in page.locator(".ch-address input, .ch-facts input").all():
        box.uncheck()
    page.click("#apply")
    expect(page.locator("#applied")).to_be_visible(timeout=10000)
    assert "cam-000002" in lab.devices() and lab.devices()["gate-1"]["address"].endswith(".6")
    desk.close()

    phone = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = phone.new_page()
    sign_in(page, lab.url, "disp")
    page.wait_for_url("**/console/wallboard")
    page.goto(f"{lab.url}/console/discovery/s1")
    start_and_watch(page, "-phone-zh", tap=True)
    assert no_horizontal_scroll(page)
    expect(page.locator(".ch-new")).to_have_count(0)  # applied from the desktop: known now
    expect(page.locator(".ch-address")).to_contain_text("gate-1")
    page.locator("#apply").tap()
    expect(page.locator("#applied")).to_be_visible(timeout=10000)
    assert no_horizontal_scroll(page)
    shot(page, "discovery-applied-phone-zh")
    assert lab.devices()["gate-1"]["address"] == f"{lab.net}.2"
    phone.close()
