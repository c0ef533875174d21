"""Metric names: those a PromQL expression reads, and those a /metrics exposition offers.

The PromQL side is a tokenizer, not a parser: it drops strings, label matchers, ranges and
label lists (`by (...)`, `on (...)`), then keeps identifiers that are not functions or
keywords. That is enough for rules and dashboards, and a real Prometheus runs every
expression in tests/e2e/test_prometheus.py as well.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "config" / "prometheus" / "monitord.rules.yml"
DASHBOARD = ROOT / "config" / "grafana" / "monitord.json"

# Made by Prometheus itself for every target, not by the daemon.
PROMETHEUS_SERIES = frozenset({"up"})

_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool"}
    | {"and", "or", "unless", "inf", "nan", "atan2"}
)
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_IDENT = re.compile(r"(?<![\w:$.])([A-Za-z_:][\w:]*)(\s*\()?")


def names_in_expr(expr: str) -> set[str]:
    """Metric (and recording-rule) names an expression selects."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _LABEL_LIST.sub(" ", text)
    found = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS:
            continue
        found.add(name)
    return found


def exported_names(exposition: str) -> set[str]:
    """Every series name a scrape can hold, including families with no sample yet."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            names |= _series_of(family, kind.strip())
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def _series_of(family: str, kind: str) -> set[str]:
    if kind == "histogram":
        return {family + s for s in ("_bucket", "_sum", "_count", "_created")}
    if kind == "counter":
        base = family.removesuffix("_total")
        return {base + "_total", base + "_created"}
    if kind == "summary":
        return {family, family + "_sum", family + "_count", family + "_created"}
    return {family}


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def names_in_rules() -> set[str]:
    """Names the rules read, minus those the rules themselves record."""
    read = set().union(*(names_in_expr(rule["expr"]) for rule in rules()))
    return read - recorded_names()


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def dashboard_panels() -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    found = []
    for panel in dashboard()["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in dashboard_panels() for t in p.get("targets", [])]


def variable_metrics() -> set[str]:
    """Metrics the template variables read: `label_values(metric, label)`."""
    found = set()
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = _LABEL_VALUES.fullmatch(variable["query"]["query"])
            assert match, f"variable {variable['name']}: not label_values(metric, label)"
            found.add(match.group(1))
    return found


def names_in_dashboard() -> set[str]:
    read = set().union(*(names_in_expr(e) for e in dashboard_exprs())) | variable_metrics()
    return read - recorded_names()


def runnable(expr: str) -> str:
    """The expression as Grafana sends it with every variable at 'All'."""
    for variable, value in _GRAFANA_VALUES.items():
        expr = expr.replace(variable, value)
    return expr


_LABEL_VALUES = re.compile(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,\s*\w+\s*\)")
_GRAFANA_VALUES = {"$__rate_interval": "1m", "$__interval": "15s", "$site": ".*", "$contract": ".*"}
