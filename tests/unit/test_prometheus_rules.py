"""config/prometheus: promtool checks the rules and the scrape example and runs the rules'
unit tests; every alert is labelled and explained in both languages.

That the names the rules read are exported by a running daemon is checked in
tests/e2e/test_prometheus.py, where a real Prometheus also evaluates the rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.promql import RULES, names_in_expr, names_in_rules, rules

HERE = RULES.parent
PROMTOOL = shutil.which("promtool")


@pytest.fixture
def promtool() -> str:
    if PROMTOOL is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install promtool (Debian package prometheus)")
        pytest.skip("promtool not installed (Debian package prometheus)")
    return PROMTOOL


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=60, check=False, cwd=HERE
    )


def test_rules_pass_promtool_check(promtool: str) -> None:
    done = run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules())} rules found" in done.stdout


def test_scrape_example_passes_promtool_check(promtool: str) -> None:
    done = run(promtool, "check", "config", "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_pass(promtool: str) -> None:
    done = run(promtool, "test", "rules", "monitord.rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_rule_unit_tests_can_fail(promtool: str, tmp_path: Path) -> None:
    """The same tests against rules with one threshold moved must fail."""
    (tmp_path / "monitord.rules.test.yml").write_text(
        (HERE / "monitord.rules.test.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    moved = RULES.read_text(encoding="utf-8").replace(
        "monitord_outbox_oldest_pending_seconds > 900",
        "monitord_outbox_oldest_pending_seconds > 9000",
    )
    assert moved != RULES.read_text(encoding="utf-8")
    (tmp_path / "monitord.rules.yml").write_text(moved, encoding="utf-8")
    done = subprocess.run(
        [promtool, "test", "rules", "monitord.rules.test.yml"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "MonitordOutboxStuck" in done.stdout + done.stderr


def test_every_alert_has_a_severity_and_bilingual_summary() -> None:
    alerts = [rule for rule in rules() if "alert" in rule]
    assert len(alerts) >= 14
    for rule in alerts:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], rule["alert"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in notes["summary_zh"]), rule["alert"]


def test_every_alert_is_unit_tested() -> None:
    tests = (HERE / "monitord.rules.test.yml").read_text(encoding="utf-8")
    found = rules()
    assert found
    for rule in found:
        if "alert" in rule:
            assert f"alertname: {rule['alert']}" in tests, rule["alert"]


def test_rules_read_daemon_metrics_only() -> None:
    # Apart from recorded names, what the rules read is the daemon's (or Prometheus' `up`).
    names = names_in_rules() - {"up"}
    assert names
    for name in names:
        assert name.startswith("monitord_"), name


def test_names_in_expr() -> None:
    expr = (
        'sum by (site) (rate(foo_total{a="b", c=~"x|y"}[5m] offset 1h)) / on (site) group_left'
        " (kind) bar > 0.95 and histogram_quantile(0.99, rate(baz_bucket[$__rate_interval]))"
        ' unless absent(qux{job="monitord"}) or vector(1e3) or site:rec:avg'
    )
    assert names_in_expr(expr) == {"foo_total", "bar", "baz_bucket", "qux", "site:rec:avg"}
