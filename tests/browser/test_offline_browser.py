"""The phone's offline queue in a real browser (Debian's chromium, 412×839, touch, zh):
actions taken with the context offline, photos included, reach the server once each, in
order, with the time they were taken; 50 seeded offline/online flips lose and double
nothing. Checked against the store; screenshots to tests/artifacts/."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect

from monitord.store import Store
from monitord.ticketing.lifecycle import EventKind
from tests.browser.conftest import CHROMIUM
from tests.browser.test_console_browser import PHONE, Served, down, shot, sign_in, work, work_step
from tests.support.consolelab import ConsoleLab

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]  # fmt: skip
WHERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 8}
# Playwright's offline switch does not reach a service worker's own fetches
# (microsoft/playwright#2311): with sw.js running, "offline" would not be. The page's own
# queue is what is tested here; the worker sends the same queue under the same lock.
PHONE_NO_WORKER = {**PHONE, "service_workers": "block"}


@pytest.fixture
def lab(store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ConsoleLab:
    made = ConsoleLab(store, monkeypatch)
    made.config = made.config.model_copy(update={"state_dir": tmp_path})  # photos kept here
    return made


@pytest.fixture
def served(lab: ConsoleLab) -> Iterator[Served]:
    made = Served(lab)
    yield made
    made.stop()


def advance(lab: ConsoleLab, seconds: float) -> None:
    """The server's clock moves on (in a thread: Playwright's sync API holds this loop)."""
    thread = threading.Thread(target=lambda: asyncio.run(lab.clock.advance(seconds)))
    thread.start()
    thread.join(10)


def photo(path: Path, size: tuple[int, int], kind: str) -> Path:
    Image.new("RGB", size, "darkorange").save(path, kind)
    return path


def waiting(page: Page) -> str:
    return page.locator("#queue b").inner_text()


def test_three_actions_with_two_photos_taken_offline_arrive_once_in_order(
    lab: ConsoleLab, served: Served, browser: Browser, tmp_path: Path
) -> None:
    ticket = down(lab, "nvr")
    work(lab, ticket, EventKind.ACKNOWLEDGED)
    context = browser.new_context(**PHONE_NO_WORKER, geolocation=WHERE, permissions=["geolocation"])  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "eng")
    expect(page).to_have_url(f"{served.url}/console/mine")
    page.goto(f"{served.url}/console/tickets/{ticket}")
    before = lab.clock.now()
    context.set_offline(True)
    work_step(page, "onsite")
    expect(page.locator("#queue")).to_contain_text("1 个操作等待发送")
    big, small = photo(tmp_path / "big.jpg", (3200, 2400), "JPEG"), photo(
        tmp_path / "small.png", (800, 600), "PNG")  # fmt: skip
    fold = page.locator("details.step[data-step=diagnose]")
    expect(fold).to_be_visible()  # the step after on-site, shown before the signal returns
    fold.locator("input[type=file]").set_input_files([big, small])
    shot(page, "offline-photo-attached-phone-zh")
    work_step(page, "diagnose", "NVR 电源损坏")
    expect(page.locator("#queue")).to_contain_text("2 个操作等待发送")
    work_step(page, "plan", "今日更换电源")
    expect(page.locator("#queue li")).to_have_count(3)
    shot(page, "offline-queue-waiting-phone-zh")
    assert [e.kind for e in lab.store.tickets.events(ticket)] == ["opened", "acknowledged"]
    advance(lab, 600)  # the signal returns ten minutes later
    context.set_offline(False)
    expect(page.locator("#queue")).to_be_hidden(timeout=10_000)
    events = lab.store.tickets.events(ticket)
    assert [e.kind for e in events] == ["opened", "acknowledged", "on_site", "diagnosis", "plan"]
    sent = events[2:]
    assert [e.data["time_from"] for e in sent] == ["client"] * 3
    assert all(before <= e.at < before + dt.timedelta(seconds=60) for e in sent), [
        e.at for e in sent
    ]
    assert sent[0].at <= sent[1].at <= sent[2].at
    assert {e.data["received_at"] for e in sent} == {lab.clock.now().isoformat()}
    assert sent[0].data["location"] == {"lat": 31.2304, "lon": 121.4737, "accuracy_m": 8.0}
    stored = [tmp_path / "photos" / str(ticket) / p["name"] for p in sent[1].data["photos"]]
    sizes = [Image.open(p).size for p in stored]
    assert sizes == [(1600, 1200), (800, 600)]  # shrunk in the browser; the small one kept
    assert [p["type"] for p in sent[1].data["photos"]] == ["image/jpeg", "image/png"]
    page.reload()
    expect(page.locator("img.thumb")).to_have_count(2)
    shot(page, "offline-sent-photos-phone-zh")
    context.close()


def test_fifty_random_offline_online_flips_lose_and_double_nothing(
    lab: ConsoleLab, served: Served, browser: Browser
) -> None:
    ticket = down(lab, "nvr")
    work(lab, ticket, EventKind.ACKNOWLEDGED, EventKind.ON_SITE, EventKind.DIAGNOSIS,
         EventKind.PLAN)  # fmt: skip
    context = browser.new_context(**PHONE_NO_WORKER)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "eng")
    expect(page).to_have_url(f"{served.url}/console/mine")
    page.goto(f"{served.url}/console/tickets/{ticket}")
    rng = random.Random(1616)
    expected: list[tuple[str, str]] = []
    paused, offline = False, False
    for flip in range(50):
        offline = not offline
        context.set_offline(offline)
        # The page learns of it a moment later; an action taken before then is queued and
        # the page stays (offline.js), as a phone does when the signal has just come back.
        page.wait_for_function(f"navigator.onLine === {'false' if offline else 'true'}",
                               timeout=5000)  # fmt: skip
        advance(lab, 5)  # the phone's times, read against the server's, keep moving on
        for _ in range(rng.randint(0, 2)):
            n = len(expected)
            if rng.random() < 0.25:  # pause or resume, as the form offers now
                kind, paused = ("resumed" if paused else "paused"), not paused
                form = page.locator("form.pause")
                field = form.locator("input[name=reason]")
                field.fill(f"原因 {n}")
                take(page, form.locator("button"), field, offline)
            else:
                kind = "stage"
                fold = page.locator("details.step[data-step=stage]")
                field = fold.locator("textarea")
                field.fill(f"阶段 {n}")
                take(page, fold.locator("button"), field, offline)
            expected.append((kind, f"原因 {n}" if kind != "stage" else f"阶段 {n}"))
        if flip == 1:
            shot(page, "offline-flips-phone-zh")
    assert not offline  # the 50th flip brought the signal back: the queue drains by itself
    expect(page.locator("#queue")).to_be_hidden(timeout=15_000)
    logged = [(e.kind, e.text) for e in lab.store.tickets.events(ticket)[5:]]
    assert logged == expected  # 0 lost, 0 doubled, in the order taken
    assert len(expected) >= 30
    # Each dated by the phone (the fake server clock stands still between two page loads,
    # so two pages' claims may differ by a few ms); the log stays in time order.
    sent = lab.store.tickets.events(ticket)[5:]
    assert all(e.data["time_from"] in ("client", "previous") for e in sent)
    assert [e.at for e in sent] == sorted(e.at for e in sent)
    context.close()


def take(page: Page, button: Locator, field: Locator, offline: bool) -> None:
    """Tap and wait until the action is queued (its form emptied) or, online, sent and the
    ticket's page loaded again."""
    if offline:
        button.tap()
        expect(field).to_have_value("", timeout=5000)
    else:
        with page.expect_navigation(timeout=10_000):
            button.tap()


def test_without_javascript_the_work_forms_post_as_they_are(
    lab: ConsoleLab, served: Served, browser: Browser, tmp_path: Path
) -> None:
    ticket = down(lab, "nvr")
    work(lab, ticket, EventKind.ACKNOWLEDGED)
    context = browser.new_context(**PHONE, java_script_enabled=False)  # type: ignore[arg-type]
    page = context.new_page()
    sign_in(page, served.url, "eng")
    expect(page).to_have_url(f"{served.url}/console/mine")
    page.goto(f"{served.url}/console/tickets/{ticket}")
    expect(page.locator("details.step[data-step=diagnose]")).to_be_hidden()  # not yet offered
    expect(page.locator("#queue")).to_be_hidden()
    work_step(page, "onsite")
    expect(page.locator("#status")).to_contain_text("已到场")
    fold = page.locator("details.step[data-step=diagnose]")
    fold.locator("input[type=file]").set_input_files(
        [photo(tmp_path / "p.jpg", (2000, 1000), "JPEG")]
    )
    work_step(page, "diagnose", "NVR 电源损坏")
    expect(page.locator("img.thumb")).to_have_count(1)
    events = lab.store.tickets.events(ticket)
    assert [e.kind for e in events][2:] == ["on_site", "diagnosis"]
    assert all("idem" not in e.data and "time_from" not in e.data for e in events[2:])
    [kept] = events[-1].data["photos"]
    with Image.open(tmp_path / "photos" / str(ticket) / kept["name"]) as img:
        assert img.size == (2000, 1000)  # sent as taken: only a page with JS shrinks it
    context.close()
