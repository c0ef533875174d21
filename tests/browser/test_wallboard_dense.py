"""The wallboard at fleet size in a real browser: 500 sites on one 1920x1080 screen (issue 16,
item 4), every tile inside the viewport without scrolling and its type still legible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.browser.conftest import CHROMIUM
from tests.browser.test_console_browser import Served, down, shot, sign_in
from tests.support.apilab import api_config
from tests.support.consolelab import CONSOLE, ConsoleLab
from tests.support.ticketlab import T0

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")
SITES = 500
# Each tile against the viewport and its own text: what is outside, what is under 10 px.
CHECK = """() => {
  const w = innerWidth, h = innerHeight, bad = [];
  for (const t of document.querySelectorAll('.tile')) {
    const r = t.getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > w || r.bottom > h) bad.push(t.dataset.site + ' outside');
    for (const e of [t, ...t.querySelectorAll('*')]) {
      const shown = getComputedStyle(e).display !== 'none' && e.textContent.trim();
      if (shown && parseFloat(getComputedStyle(e).fontSize) < 10) bad.push(t.dataset.site + ' small');
    }
  }
  const scrolls = document.documentElement.scrollHeight > h || document.documentElement.scrollWidth > w;
  return {tiles: document.querySelectorAll('.tile').length, bad: bad.slice(0, 5), scrolls};
}"""


@pytest.fixture
def board(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ConsoleLab, Served]]:
    lab = ConsoleLab(store, monkeypatch)
    sites = [s.model_dump(mode="json", exclude_none=True) for s in lab.config.sites]
    extra = [{"id": f"b{i:03d}", "name": f"{i}号 滨江花园", "timezone": "Asia/Shanghai",
              "contract": "seed-000"} for i in range(SITES - len(sites))]  # fmt: skip
    lab.config = api_config("sqlite://", "city", console=CONSOLE, sites=[*sites, *extra])
    store.devices.sync(site_records(lab.config), [device_record(d) for d in lab.config.devices], T0)
    served = Served(lab)
    yield lab, served
    served.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_500_sites_fit_one_tv_screen_without_scrolling(
    board: tuple[ConsoleLab, Served], browser: Browser
) -> None:
    lab, served = board
    down(lab, "cam-01")  # a tile with a ticket and its countdown, the longest content
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, served.url, "disp")
    expect(page).to_have_url(f"{served.url}/console/wallboard")
    expect(page.locator(".tile")).to_have_count(SITES)
    expect(page.locator("[data-site=s1] .countdown")).to_be_visible()
    found = page.evaluate(CHECK)
    assert found == {"tiles": SITES, "bad": [], "scrolls": False}, found
    shot(page, "wallboard-500-tv-zh")
    context.close()
