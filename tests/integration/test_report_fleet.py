"""The monthly report at fleet size: a summary a customer reads, every device in an appendix,
and nothing printed past the page edge.

The month is the seeded one (tests/support/month.py) with 2 000 more cameras on 8 more
sites; printed whole, its per-device table alone would take some 60 pages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.config import Config
from monitord.reports import chromium, html, monthly, monthly_view, period
from monitord.reports.agreed import AgreedWindows
from monitord.reports.document import Document, Section, Table
from monitord.reports.monthly import MonthlyReport
from monitord.reports.sources import NoTasks
from monitord.store import Store
from tests.support.month import (
    M1,
    SECRET,
    MonthLab,
    config_data,
    fleet_data,
    seed_fleet,
    seed_month,
)

SITES, PER_SITE = 8, 250
NEEDS_CHROMIUM = pytest.mark.skipif(chromium.find() is None, reason="headless Chromium is not "
                                    "installed (Debian package chromium)")  # fmt: skip


@pytest.fixture
async def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, MonthlyReport]:
    monkeypatch.setenv("REPORT_TEST_COMMUNITY", SECRET)
    data = fleet_data(f"sqlite:///{tmp_path / 'monitord.db'}", SITES, PER_SITE)
    config_file = tmp_path / "monitord.yaml"
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    config = Config.model_validate(data)
    store = Store.open(data["database"])
    store.upgrade()
    lab = MonthLab(store, config)
    await seed_month(lab)
    seed_fleet(lab)
    span = period.month("2026-06", "Asia/Shanghai", M1 + dt.timedelta(days=40))
    report = monthly.build(
        store, config.contracts[0], span, "zh", AgreedWindows(config, store), NoTasks()
    )
    store.close()
    return config_file, report


def _run(config: Path, *args: str) -> None:
    result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output


def _monthly(config: Path, out: Path, *args: str) -> None:
    _run(config, "report", "monthly", "--contract", "seed-000", "--month", "2026-06",
         "-o", str(out), *args)  # fmt: skip


def _every_device(report: MonthlyReport) -> dict[str, str]:
    """Each device's availability as the appendix writes it (per cent, 3 decimals)."""
    lines = [ln for s in report.sites for ln in s.devices]
    return {ln.device.id: f"{(ln.uptime.availability or 0) * 100:.3f}" for ln in lines}


async def test_the_appendix_holds_every_device_and_the_report_only_the_worst(
    fleet: tuple[Path, MonthlyReport], tmp_path: Path
) -> None:
    config, report = fleet
    expected = _every_device(report)
    assert len(expected) == SITES * PER_SITE + len(config_data("sqlite://")["devices"])
    assert len(set(expected.values())) > 50  # the availabilities differ: ranking is a choice
    out = tmp_path / "june.html"
    _monthly(config, out)
    rows = list(csv.reader(io.StringIO((tmp_path / "june-devices.csv").read_text("utf-8"))))
    assert rows[0][0] == "\ufeff站点" and rows[0][8] == "可用率(%)"
    got = {row[1]: row[8] for row in rows[1:]}
    assert got == expected
    page = out.read_text(encoding="utf-8")
    shown = [d for d in expected if f"({d})" in page]
    worst = sorted(expected, key=lambda d: (float(expected[d]), d))[:20]
    # The worst, the top failing and the first warranties: not 2 014.
    assert set(worst) <= set(shown) and len(shown) <= 20 + 10 + monthly_view.WARRANTY_ROWS
    assert "june-devices.csv" in page
    # Warranties ending soon: the first rows in the report, every one in the appendix.
    ending = {x.device.id for x in report.warranty}
    assert len(ending) > PER_SITE
    assert {row[1] for row in rows[1:] if row[9]} == ending
    assert f"另有 {len(ending) - monthly_view.WARRANTY_ROWS} 台设备" in page
    # The same rows as a page, on request.
    _monthly(config, tmp_path / "print.html", "--appendix", "html", "--lang", "en")
    appendix = (tmp_path / "print-devices.html").read_text(encoding="utf-8")
    assert all(f"({d})" in appendix for d in expected)
    assert "Appendix: availability per device" in appendix and "<script" not in appendix


@NEEDS_CHROMIUM
async def test_the_pdf_is_a_summary_of_at_most_twenty_pages(
    fleet: tuple[Path, MonthlyReport], tmp_path: Path
) -> None:
    config, _ = fleet
    pdf = tmp_path / "june.pdf"
    _monthly(config, pdf, "--format", "pdf")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    assert 1 <= pages <= 20, pages
    assert len(data) <= 2_000_000
    assert (tmp_path / "june-devices.csv").stat().st_size > 50_000


# --- nothing past the page edge: the print layout measured by Chromium itself ---

_A4_CONTENT = "186mm"  # 210 mm less the 12 mm margins of @page
_MEASURE = """<script>
const edge = document.body.getBoundingClientRect().right + 0.5;
const bad = [];
for (const el of document.querySelectorAll('table, svg, pre, p, dl, h1, h2, td, th')) {
  const cut = el.getBoundingClientRect().right > edge;
  const spills = (el.tagName === 'TD' || el.tagName === 'TH') && el.scrollWidth > el.clientWidth + 1;
  if (cut || spills) bad.push(el.tagName + ': ' + el.textContent.slice(0, 30));
}
document.body.setAttribute('data-tables', document.querySelectorAll('table').length);
document.body.setAttribute('data-overflow', JSON.stringify(bad));
</script>"""


def _overflowing(page: str, tmp_path: Path) -> tuple[int, list[str]]:
    """(tables laid out, elements past the content width) with the print rules applied at the
    width of an A4 page's content. The policy goes (this page runs the measuring script;
    it is the test's copy, never a report)."""
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    page = page.replace("@media print {", "@media all {")
    page = page.replace("</style>", f"body {{ width: {_A4_CONTENT}; }}</style>")
    page = page.replace("</body>", f"{_MEASURE}</body>")
    file = tmp_path / "measure.html"
    file.write_text(page, encoding="utf-8")
    browser = chromium.find()
    assert browser is not None
    done = subprocess.run(
        [browser, *chromium.flags(), f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,1800", "--dump-dom", file.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-tables="(\d+)" data-overflow="([^"]*)"', done.stdout)
    assert found, done.stdout[:500]
    return int(found[1]), json.loads(found[2].replace("&quot;", '"'))


def _with_long_words(report: MonthlyReport, generated: dt.datetime) -> Document:
    """The report and a section of words no line can break (an id, a path), as a device's
    name and its site's may be."""
    doc = monthly_view.document(report, generated, "june-devices.csv")
    long = "设备" + "X" * 150
    table = Table(("device", "site", "note"), ((long, "s" * 120, "/very/long/path" * 10),))
    wide = Table(tuple(f"column {i}" for i in range(12)), (tuple("9" * 12 for _ in range(12)),))
    extra = Section("long words " + "Y" * 120, (table, wide))
    return Document(doc.title, doc.lang, doc.meta, (*doc.sections, extra))


@NEEDS_CHROMIUM
async def test_no_table_is_wider_than_the_page(
    fleet: tuple[Path, MonthlyReport], tmp_path: Path
) -> None:
    _, report = fleet
    for lang in ("zh", "en"):
        import dataclasses

        doc = _with_long_words(dataclasses.replace(report, lang=lang), M1)
        tables, bad = _overflowing(html.render(doc), tmp_path)
        assert tables >= 8 and bad == []
    # The measure sees a cut: the same page without the wrapping rules spills.
    page = html.render(_with_long_words(report, M1)).replace("overflow-wrap: anywhere", "")
    _, control = _overflowing(page, tmp_path)
    assert control


async def test_every_heading_is_grouped_with_what_follows_it(
    fleet: tuple[Path, MonthlyReport],
) -> None:
    """The print rules can only keep a heading with its content if they are grouped: each
    section heading opens an unbreakable group holding a block, or one a table follows."""
    _, report = fleet
    page = html.render(monthly_view.document(report, M1, "june-devices.csv"))
    assert "div.lead { break-inside: avoid; break-after: avoid; }" in page
    sections = re.findall(r"<section>\n(.*?)</section>", page, flags=re.DOTALL)
    assert len(sections) == len(monthly_view.document(report, M1).sections) >= 8
    for body in sections:
        lead = re.match(r'<div class="lead"><h2>[^<]*</h2>(.*?)</div>\n(<table|<p|<svg|$)', body,
                        flags=re.DOTALL)  # fmt: skip
        assert lead, body[:200]
        assert lead[1] or lead[2] == "<table", body[:200]  # never a heading alone
