"""The README's first command in a browser: the demo's outage opens a ticket, the demo
engineer acknowledges and resolves it from a phone-sized window, the demo customer signs
it off. The demo runs for real (its own network namespace, real ICMP), bounded in time."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM
from tests.browser.test_console_browser import (
    PHONE,
    no_horizontal_scroll,
    shot,
    work_step,
)

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium"),
    pytest.mark.skipif(
        shutil.which("unshare") is None or shutil.which("ip") is None,
        reason="the demo needs unshare (util-linux) and ip (iproute2)",
    ),
]
BANNER = re.compile(r"(http://127\.0\.0\.1:\d+)/console/")
ACCOUNT = re.compile(r"^\s+(engineer|dispatcher|customer)\s+(\S+)\s", re.MULTILINE)


@dataclass
class Demo:
    url: str
    passwords: dict[str, str]
    process: subprocess.Popen[str]
    state_dir: Path


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    argv = [sys.executable, "-m", "monitord", "--lang", "zh", "demo", "--duration", "80",
            "--console-port", "0", "--state-dir", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    assert process.stdout is not None
    out, ends = "", time.monotonic() + 30  # bounded: the banner comes within seconds
    watch = selectors.DefaultSelector()
    watch.register(process.stdout, selectors.EVENT_READ)
    while len(ACCOUNT.findall(out)) < 3 and time.monotonic() < ends:
        if watch.select(timeout=1):
            line = process.stdout.readline()
            if not line:
                break
            out += line
    found = BANNER.search(out)
    try:
        assert found and len(ACCOUNT.findall(out)) == 3, out[-2000:]
        yield Demo(found.group(1), dict(ACCOUNT.findall(out)), process, tmp_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # our own session: the demo and its child
        process.wait(15)
        process.stdout.close()


def sign_in(page: Page, demo: Demo, name: str) -> None:
    page.goto(f"{demo.url}/console/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", demo.passwords[name])
    page.locator("button[type=submit]").tap()


# The first moment a wallboard tile turns red, on the browser's clock (Date.now(), ms).
WATCH_TILES = """() => { window.redAt = null; new MutationObserver(() => {
  if (window.redAt === null && document.querySelector('.tile.st-down')) window.redAt = Date.now();
}).observe(document.body, {subtree: true, childList: true, attributes: true}); }"""


def stored_down_at(database: Path, device: str, seconds: float) -> threading.Thread:
    """Watch the demo's store (read-only) from a thread: the wall-clock time `device`'s
    HARD DOWN is first written there lands in the thread's `found` (bounded by `seconds`)."""

    def watch() -> None:
        ends = time.monotonic() + seconds
        while time.monotonic() < ends and not found:
            with contextlib.suppress(sqlite3.Error):  # not created yet, or being written
                with contextlib.closing(
                    sqlite3.connect(f"file:{database}?mode=ro", uri=True)
                ) as db:
                    row = db.execute("SELECT state FROM device_state WHERE device_id = ?",
                                     (device,)).fetchone()  # fmt: skip
                if row and row[0] == "down":
                    found.append(time.time())
            time.sleep(0.05)

    found: list[float] = []
    thread = threading.Thread(target=watch, daemon=True)
    thread.found = found  # type: ignore[attr-defined]
    thread.start()
    return thread


def test_demo_outage_acknowledged_on_a_phone_and_signed_off_by_the_customer(
    demo: Demo, browser: Browser
) -> None:
    # The dispatcher's wallboard on a TV, open before the outage: it turns within 2 s of the
    # daemon's write (server-sent events, no reload).
    tv = browser.new_context(
        viewport={"width": 1920, "height": 1080}, locale="zh-CN", has_touch=True
    )
    board = tv.new_page()
    sign_in(board, demo, "dispatcher")
    expect(board).to_have_url(f"{demo.url}/console/wallboard")
    board.evaluate(WATCH_TILES)
    written = stored_down_at(demo.state_dir / "monitord.db", "cam-05", 45)
    engineer = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = engineer.new_page()
    sign_in(page, demo, "engineer")
    expect(page).to_have_url(f"{demo.url}/console/mine")
    card = page.locator("a[href^='/console/tickets/']").first
    for _ in range(45):  # bounded: the script cuts cam-05 at t+15 s, confirmed a few s later
        if card.count():
            break
        time.sleep(1)
        page.reload()
    expect(card).to_contain_text("cam-05")
    written.join(10)
    expect(board.locator(".tile.st-down")).to_have_count(1)
    red_at = board.evaluate("window.redAt")
    [down_at] = written.found  # type: ignore[attr-defined]
    assert red_at is not None and red_at / 1000 - down_at <= 2.0, (red_at, down_at)
    shot(board, "demo-wallboard-down-tv-zh")
    tv.close()
    assert no_horizontal_scroll(page)
    shot(page, "demo-mine-phone-zh")
    card.tap()
    page.locator("button[value=ack]").tap()
    expect(page.locator("#status")).to_contain_text("已接单")
    shot(page, "demo-acknowledged-phone-zh")
    work_step(page, "onsite")
    expect(page.locator("#status")).to_contain_text("已到场")
    work_step(page, "resolve", "重新插紧网线，画面恢复")
    expect(page.locator("#status")).to_contain_text("已修复")
    ticket_url = page.url.split("?")[0]
    engineer.close()

    customer = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = customer.new_page()
    sign_in(page, demo, "customer")
    expect(page).to_have_url(f"{demo.url}/console/tickets")
    page.goto(ticket_url)
    page.fill("input[name=signer]", "王经理")
    page.locator("button[value=approve]").tap()
    expect(page.locator("#status")).to_contain_text("已验收")
    assert no_horizontal_scroll(page)
    shot(page, "demo-signed-off-phone-zh")
    customer.close()
