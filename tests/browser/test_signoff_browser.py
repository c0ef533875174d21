"""The customer's sign-off in a real browser (Debian's chromium, phone size with touch, zh):
a signature drawn with pointer events, an approval whose comment reads like a rejection
asked again, and the ticket's PDF carrying the drawn image. Screenshots: tests/artifacts/.

(The served-app helper is the same as test_console_browser.py's: a test module may not
import another.)"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from monitord.reports import chromium, html
from monitord.reports.service import ticket_document
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


def resolved(lab: ConsoleLab, device: str) -> int:
    """The device goes down and its ticket is worked to resolved (in a thread: Playwright's
    sync API holds this one's loop)."""
    found: list[int] = []
    thread = threading.Thread(target=lambda: found.append(asyncio.run(lab.down(device))))
    thread.start()
    thread.join(30)
    for kind in (EventKind.ACKNOWLEDGED, EventKind.ON_SITE, EventKind.RESOLVED):
        tickets.append(lab.store, found[0], kind, "eng", lab.clock.now())
    return found[0]


def draw(page: Page) -> None:
    """A signature stroke by stroke, as pointer events on the pad."""
    box = page.locator("canvas.pad").bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for stroke in range(3):
        page.mouse.move(x + w * 0.1, y + h * (0.3 + 0.2 * stroke))
        page.mouse.down()
        for step in range(1, 21):
            page.mouse.move(
                x + w * (0.1 + 0.04 * step),
                y + h * (0.3 + 0.02 * step * (-1) ** stroke + 0.1 * stroke),
            )
        page.mouse.up()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_customer_draws_a_signature_is_asked_again_and_the_pdf_holds_it(
    lab: ConsoleLab, served: Served, browser: Browser, tmp_path: Path
) -> None:
    ticket = resolved(lab, "nvr")
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(f"{served.url}/console/login")
    page.fill("input[name=name]", "cust-a")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").tap()
    expect(page).to_have_url(f"{served.url}/console/tickets")
    page.goto(f"{served.url}/console/tickets/{ticket}")
    expect(page.locator("canvas.pad")).to_be_visible()  # the script showed the pad
    draw(page)
    assert page.locator("input[name=signature]").input_value().startswith("data:image/png")
    page.fill("input[name=signer]", "王经理")
    page.fill("textarea[name=comment]", "3号摄像机还是不行")
    shot(page, "signature-drawn-phone-zh")
    page.locator("button[value=approve]").tap()
    expect(page.locator("#doubt")).to_contain_text("还是不行")  # asked again, nothing recorded
    assert lab.store.tickets.get(ticket)[0].status == "resolved"  # type: ignore[index]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "signoff-doubt-phone-zh")
    page.locator("button[value=approve]").tap()  # "approve anyway", the drawing kept
    expect(page.locator("#status")).to_contain_text("已验收")
    expect(page.locator("img.signature")).to_be_visible()
    shot(page, "signed-phone-zh")
    context.close()
    last = lab.store.tickets.events(ticket)[-1]
    assert (last.kind, last.data["signature_kind"]) == ("verified", "drawn")
    assert last.data["approved_despite"] == "还是不行"
    found = ticket_document(lab.store, lab.config, ticket, "zh", lab.clock.now())
    assert found is not None
    pdf = tmp_path / "ticket.pdf"
    chromium.render(html.render(found[1]), pdf, "pdf")
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF") and re.search(rb"/Subtype\s*/Image", body), "no image"


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=True)
