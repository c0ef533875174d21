"""config/grafana/monitord.json is a Grafana dashboard: the schema's required shape, a
datasource variable every query uses, a grid without overlaps, and queries that read the
daemon's metrics or the recording rules.

A real Prometheus runs every query, and the names are checked against a running daemon's
/metrics, in tests/e2e/test_prometheus.py.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from tests.support.promql import (
    DASHBOARD,
    dashboard,
    dashboard_exprs,
    dashboard_panels,
    names_in_dashboard,
    names_in_expr,
    recorded_names,
    rules,
    variable_metrics,
)

PANEL_TYPES = {"row", "stat", "timeseries", "table", "bargauge", "gauge", "state-timeline"}
SECTIONS = ("Fleet health", "Tickets and SLA", "Probes", "Notifications", "SNMP")


def test_top_level_fields() -> None:
    board = dashboard()
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert board["uid"] == "monitord-overview" and len(board["uid"]) <= 40
    assert board["title"] and board["time"] == {"from": "now-6h", "to": "now"}
    assert "id" not in board or board["id"] is None  # Grafana assigns it on import
    assert DASHBOARD.read_text(encoding="utf-8").endswith("}\n")


def test_datasource_variable_and_every_query_uses_it() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    source = variables["datasource"]
    assert (source["type"], source["query"]) == ("datasource", "prometheus")
    expected = {"type": "prometheus", "uid": "${datasource}"}
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == expected, variable["name"]
    for panel in dashboard_panels():
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == expected, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == expected, panel["title"]
            assert target["expr"].strip(), panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids), panel["title"]


def test_panels_have_ids_types_and_a_grid_without_overlaps() -> None:
    panels = dashboard_panels()
    ids = [p["id"] for p in panels]
    assert panels and len(set(ids)) == len(ids)
    for panel in panels:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) and grid[k] >= 0 for k in "xywh"), panel["title"]
        assert grid["w"] >= 1 and grid["h"] >= 1 and grid["x"] + grid["w"] <= 24, panel["title"]
    for a, b in combinations(panels, 2):
        assert not _overlap(a["gridPos"], b["gridPos"]), (a["title"], b["title"])


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_sections_and_bilingual_titles() -> None:
    titles = [p["title"] for p in dashboard_panels() if p["type"] == "row"]
    for section in SECTIONS:
        assert any(t.startswith(section) for t in titles), section
    for panel in dashboard_panels():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in panel["title"]) or panel["title"] in {
            "SNMP",
            "monitord",
        }, panel["title"]


def test_queries_read_daemon_metrics_or_recorded_ones() -> None:
    assert len(dashboard_exprs()) >= 30
    assert variable_metrics() == {"monitord_device_up", "monitord_tickets_open"}
    names = names_in_dashboard() - {"up"}
    assert names
    for name in names:
        assert name.startswith("monitord_"), name
    used = set().union(*(names_in_expr(e) for e in dashboard_exprs()))
    alerts = set().union(*(names_in_expr(r["expr"]) for r in rules() if "alert" in r))
    # Every recording rule feeds the dashboard or an alert; none is dead weight.
    assert recorded_names() <= used | alerts
