"""`monitord report …` on a seeded month in a database file; the HTML in headless Chromium."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from monitord.cli import main
from monitord.config import Config
from monitord.reports import chromium
from monitord.store import Store
from tests.support.month import SECRET, MonthLab, config_data, seed_month


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, int]]:
    monkeypatch.setenv("REPORT_TEST_COMMUNITY", SECRET)
    data = config_data(f"sqlite:///{tmp_path / 'monitord.db'}")
    config_file = tmp_path / "monitord.yaml"
    config_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    store = Store.open(data["database"])
    store.upgrade()
    ids = await seed_month(MonthLab(store, Config.model_validate(data)))
    store.close()
    return config_file, ids


def _run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    return result.output


def test_monthly_in_both_formats_and_the_contracts_language(
    seeded: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    config, _ = seeded
    md = _run(config, "report", "monthly", "--contract", "seed-000", "--month", "2026-06",
              "--format", "md")  # fmt: skip
    assert md.startswith("# 月度运维服务报告 · 2026-06")  # the contract's language: zh
    assert "| A类:系统不能正常运转 | 1 |" in md
    # The NVR's outage fell inside the configured maintenance window: no downtime.
    assert "| NVR1 (nvr1) | 硬盘录像机 | s1 | 0 分钟 | 0 | 0 | 100.000 % |" in md
    english = _run(config, "--lang", "en", "report", "monthly", "--contract", "seed-000",
                   "--month", "2026-06", "--format", "md")  # fmt: skip
    assert "| Tickets opened | 6 |" in english
    out = tmp_path / "june.html"
    _run(config, "report", "monthly", "--contract", "seed-000", "--month", "2026-06",
         "--lang", "en", "-o", str(out))  # fmt: skip
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "@media print" in page and "<svg" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")


def test_bad_input_names_what_and_where(seeded: tuple[Path, dict[str, int]]) -> None:
    config, _ = seeded
    runner = CliRunner()
    bad_month = runner.invoke(main, ["-c", str(config), "report", "monthly", "--contract",
                                     "seed-000", "--month", "June"])  # fmt: skip
    assert bad_month.exit_code == 2 and "--month" in bad_month.output
    assert "'June'" in bad_month.output
    bad_contract = runner.invoke(main, ["-c", str(config), "report", "monthly", "--contract",
                                        "nope", "--month", "2026-06"])  # fmt: skip
    assert bad_contract.exit_code == 2 and "seed-000" in bad_contract.output
    no_ticket = runner.invoke(main, ["-c", str(config), "report", "ticket", "999"])
    assert no_ticket.exit_code == 1 and "ticket 999 does not exist" in no_ticket.output
    both = runner.invoke(main, ["-c", str(config), "report", "log", "--site", "s1",
                                "--contract", "seed-000", "--from", "2026-06-01",
                                "--to", "2026-06-30"])  # fmt: skip
    assert both.exit_code == 2 and "exactly one of --site or --contract" in both.output


def test_pdf_without_a_renderer_says_what_to_install(
    seeded: tuple[Path, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = seeded
    monkeypatch.setenv("MONITORD_CHROMIUM", str(tmp_path / "no-such-browser"))
    result = CliRunner().invoke(main, ["-c", str(config), "report", "monthly", "--contract",
                                       "seed-000", "--month", "2026-06", "--format", "pdf",
                                       "-o", str(tmp_path / "r.pdf")])  # fmt: skip
    assert result.exit_code == 1
    assert "apt-get install chromium" in result.output and "--format html" in result.output


def test_ticket_record_holds_the_four_documents_and_the_sign_off(
    seeded: tuple[Path, dict[str, int]],
) -> None:
    config, ids = seeded
    record = _run(config, "report", "ticket", str(ids["cam"]))
    sections = ["一、故障诊断报告", "二、系统维护与故障恢复实施计划", "三、维护工作阶段报告",
                "四、系统维护工作报告", "五、用户验收签字确认"]  # fmt: skip
    positions = [record.index(s) for s in sections]
    assert positions == sorted(positions)
    for text in ("镜头进水,电源模块损坏", "PSU burnt", "更换电源模块", "已订购配件",
                 "配件到货,已更换", "维护完成,画面恢复", "签字人: 物业王经理", "验收合格"):  # fmt: skip
        assert text in record
    assert "保修期内(至 2026-08-15)" in record  # the camera's repair is free
    # The switch: its plan came after the repair (an emergency) and says so; no sign-off yet.
    switch = _run(config, "--lang", "en", "report", "ticket", str(ids["switch"]))
    assert "filled in after the emergency repair" in switch
    signoff = switch[switch.index("5. Customer acceptance and sign-off") :]
    assert signoff.split("\n## ")[0].strip().endswith("Not submitted yet.")
    assert "| On site |" in switch and "| Breached |" in switch


def test_logs_of_a_site_as_csv_and_markdown(seeded: tuple[Path, dict[str, int]]) -> None:
    config, ids = seeded
    text = _run(config, "--lang", "en", "report", "log", "--site", "s2", "--from",
                "2026-06-01", "--to", "2026-06-30")  # fmt: skip
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["Site"] for r in rows} == {"s2"}
    service = [r for r in rows if r["Log"] == "Service log"]
    operation = [r for r in rows if r["Log"] == "System operation log"]
    # Service: every June event of the tickets of s2; operation: every June state change.
    assert {int(r["Ticket"]) for r in service} == {ids["county"], ids["hotline"],
                                                   ids["flapping"], ids["acs"]}  # fmt: skip
    assert all(r["Time"].startswith("2026-06-") for r in rows)
    assert [r["Event"] for r in operation if r["Device"] == "sw2"] == ["up -> down", "down -> up"]
    assert [r["UTC"] for r in rows] == sorted(r["UTC"] for r in rows)
    md = _run(config, "report", "log", "--contract", "seed-000", "--from", "2026-06-03",
              "--to", "2026-06-03", "--format", "md")  # fmt: skip
    assert "## 客户服务日志" in md and "## 系统运行日志" in md
    assert f"#{ids['cam']}" in md and "故障诊断报告" in md


def _png_is_a_page(path: Path) -> None:
    assert path.stat().st_size > 20_000
    with Image.open(path) as image:
        assert image.width >= 1000 and image.height >= 1500
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # text, bars, rules: not one colour
        greens = sum(n for n, (r, g, b) in colours if g > 100 and r < 80 and b < 80)
        assert greens > 500  # the availability bars were drawn


@pytest.mark.skipif(chromium.find() is None, reason="headless Chromium is not installed "
                    "(Debian package chromium; scripts/test installs it as root)")  # fmt: skip
def test_the_html_renders_in_headless_chromium(
    seeded: tuple[Path, dict[str, int]], tmp_path: Path
) -> None:
    config, _ = seeded
    page = tmp_path / "june.html"
    _run(config, "report", "monthly", "--contract", "seed-000", "--month", "2026-06",
         "-o", str(page))  # fmt: skip
    png = tmp_path / "june.png"
    browser = chromium.find()
    assert browser is not None
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--hide-scrollbars", "--window-size=1200,1800", f"--screenshot={png}",
         page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    # The page logs nothing: no script errors, no blocked loads (the page may load nothing).
    assert [ln for ln in done.stderr.splitlines() if ":CONSOLE" in ln] == []
    _png_is_a_page(png)
    pdf = tmp_path / "june.pdf"
    _run(config, "report", "monthly", "--contract", "seed-000", "--month", "2026-06",
         "--format", "pdf", "-o", str(pdf))  # fmt: skip
    assert pdf.read_bytes().startswith(b"%PDF-") and pdf.stat().st_size > 20_000
