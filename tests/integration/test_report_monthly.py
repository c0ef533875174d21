"""The monthly report on a seeded month: every figure against an independent recount.

The recount reads the same store through other calls (the tickets list, each ticket's log,
each device's operation record, the configuration's archive) and counts another way: SLA
verdicts from the contract's durations by hand, availability by sampling every minute.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from statistics import fmean
from zoneinfo import ZoneInfo

import pytest

from monitord.config import Config
from monitord.reports import html, markdown, monthly, monthly_view, period
from monitord.reports.agreed import AgreedWindows
from monitord.reports.monthly import MonthlyReport
from monitord.reports.sources import NoTasks, NoWindows, TaskCounts
from monitord.store import Store
from monitord.ticketing.sla import duration_of
from tests.support.month import (
    M0,
    M1,
    SECRET,
    WINDOWS,
    MonthLab,
    config_data,
    seed_month,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)


class SeededTasks:
    """Inspection and follow-up counts as the prevention side would give them."""

    def inspections(self, contract: str, since: dt.datetime, until: dt.datetime) -> TaskCounts:
        return TaskCounts(due=4, done=3, overdue=1)

    def follow_ups(self, contract: str, since: dt.datetime, until: dt.datetime) -> TaskCounts:
        return TaskCounts(due=2, done=2, overdue=0, mean_score=90.0, scored=2)


async def _seeded(store: Store, monkeypatch: pytest.MonkeyPatch) -> tuple[MonthLab, MonthlyReport]:
    monkeypatch.setenv("REPORT_TEST_COMMUNITY", SECRET)
    config = Config.model_validate(config_data("sqlite://"))
    lab = MonthLab(store, config)
    await seed_month(lab)
    contract = config.contracts[0]
    tz = monthly.report_timezone(contract, store.devices.sites())
    span = period.month("2026-06", tz, M1 + dt.timedelta(days=40))
    report = monthly.build(
        store, contract, span, "zh", AgreedWindows(config, store), SeededTasks(), 90
    )
    return lab, report


def _june_tickets(store: Store) -> list:  # type: ignore[type-arg]
    return [
        t
        for t in store.tickets.recent(None, "seed-000", 10_000)
        if t.opened_at.astimezone(SHANGHAI).strftime("%Y-%m") == "2026-06"
    ]


def _recount_sla(lab: MonthLab) -> dict[str, Counter[str]]:
    """Due = opened + the class's duration (the seed has no pause or reclassification)."""
    contract = lab.config.contracts[0]
    zones = {s.id: s.zone.value for s in lab.config.sites}
    verdicts: dict[str, Counter[str]] = {}
    for t in _june_tickets(lab.store):
        events = lab.store.tickets.events(t.id)
        assert not {"paused", "reclassified", "reopened"} & {e.kind for e in events}
        clocks = contract.clocks.get(t.ticket_class if t.fault_kind != "hotline" else "hotline", ())
        for clock in clocks:
            due = t.opened_at + duration_of(clock, zones[t.site_id])
            met = next((e.at for e in events if e.kind == clock.met_by), None)
            if met is not None and met <= due:
                verdict = "met"
            elif (met is not None and met > due) or (met is None and due < M1):
                verdict = "breached"
            else:
                verdict = "pending"
            verdicts.setdefault(clock.milestone, Counter())[verdict] += 1
    return verdicts


def _state_at(record: list, instant: dt.datetime) -> str | None:  # type: ignore[type-arg]
    """The state a device was in at `instant`, from its operation record (newest first)."""
    return next((e.to_state for e in record if e.kind == "state" and e.at <= instant), None)


def _recount_minutes(lab: MonthLab) -> dict[str, tuple[int, int, int]]:
    """Per device: (observed minutes, down minutes, failures), sampling each minute."""
    out = {}
    for device in lab.config.devices:
        record = lab.store.states.operation_record(device.id, 10_000)
        windows = WINDOWS.get(device.id, [])
        observed = down = 0
        instant = M0
        while instant < M1:
            if not any(s <= instant < e for s, e in windows):
                state = _state_at(record, instant)
                if state not in (None, "pending"):
                    observed += 1
                    down += state in ("down", "unreachable")
            instant += MINUTE
        failures = sum(
            1
            for e in record
            if e.kind == "state" and M0 <= e.at < M1
            and e.to_state in ("down", "unreachable") and e.from_state not in ("down", "unreachable")
            and not any(s <= e.at < end for s, end in windows)
        )  # fmt: skip
        out[device.id] = (observed, down, failures)
    return out


async def test_every_figure_matches_an_independent_recount(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab, report = await _seeded(store, monkeypatch)
    june = _june_tickets(store)

    # Tickets by class.
    recount = Counter(t.ticket_class or "-" for t in june)
    assert report.tickets.total == len(june) == 6
    assert report.tickets.by_class == {k: recount.get(k, 0) for k in ("A", "B", "C", "D", "-")}
    assert report.tickets.by_class == {"A": 1, "B": 3, "C": 1, "D": 0, "-": 1}

    # SLA compliance per milestone, and the verdicts the scenario was written for.
    verdicts = _recount_sla(lab)
    got = {c.milestone: (c.met, c.breached, c.pending) for c in report.tickets.compliance}
    assert verdicts
    for milestone, counter in verdicts.items():
        assert got[milestone] == (counter["met"], counter["breached"], counter["pending"])
    assert {m: v for m, v in got.items() if any(v)} == {
        "on_site": (2, 1, 1), "plan": (2, 2, 1), "respond": (0, 1, 0),
        "first_reply": (1, 0, 0), "closed": (1, 0, 0),
    }  # fmt: skip
    plan = next(c for c in report.tickets.compliance if c.milestone == "plan")
    assert plan.share_met == pytest.approx(0.5)

    # MTTA and MTTR.
    acks, repairs = [], []
    for t in june:
        events = lab.store.tickets.events(t.id)
        first_ack = min(
            (e.at for e in events if e.kind in ("acknowledged", "on_site")), default=None
        )
        if first_ack:
            acks.append((first_ack - t.opened_at).total_seconds())
        fixed = min((e.at for e in events if e.kind == "resolved"), default=None)
        if fixed:
            repairs.append((fixed - t.opened_at).total_seconds())
    assert report.tickets.to_acknowledge.count == len(acks) == 5
    assert report.tickets.to_acknowledge.mean == dt.timedelta(seconds=fmean(acks))
    assert report.tickets.to_repair.count == len(repairs) == 3
    assert report.tickets.to_repair.mean == dt.timedelta(seconds=fmean(repairs))
    assert report.tickets.to_repair.mean == dt.timedelta(hours=(20 + 8 + 48) / 3)
    assert report.tickets.open_at_end == len(june) - len(repairs)

    # Availability per device and per site (device-minutes), failures, top failing.
    minutes = _recount_minutes(lab)
    lines = {ln.device.id: ln for s in report.sites for ln in s.devices}
    assert minutes and set(lines) == set(minutes)
    for device, (observed, down, failures) in minutes.items():
        u = lines[device].uptime
        assert (u.observed, u.down, u.failures) == (observed * MINUTE, down * MINUTE, failures)
    assert lines["nvr1"].uptime.down == dt.timedelta(0)  # its outage was planned work
    assert (lines["sw2"].uptime.down, lines["sw2"].uptime.failures) == (dt.timedelta(0), 0)
    assert lines["cam-2"].uptime.down == dt.timedelta(hours=6, minutes=40)
    for site in report.sites:
        mine = [minutes[d.id] for d in lab.config.devices if d.site == site.site.id]
        share = 1 - sum(m[1] for m in mine) / sum(m[0] for m in mine)
        assert site.uptime.availability == pytest.approx(share, abs=1e-12)
    every = list(minutes.values())
    assert report.overall.availability == pytest.approx(
        1 - sum(m[1] for m in every) / sum(m[0] for m in every), abs=1e-12
    )
    ranked = sorted(
        (d for d, m in minutes.items() if m[1] or m[2]),
        key=lambda d: (-minutes[d][2], -minutes[d][1], d),
    )
    assert [ln.device.id for ln in report.top_failing] == ranked[:10]
    assert ranked[:2] == ["cam-2", "cam-1"]

    # Warranty ending within 90 days after 30 June, from the configuration's archive.
    last_day = dt.date(2026, 6, 30)
    expected = sorted(
        (d.warranty_end, d.id)
        for d in lab.config.devices
        if d.warranty_end and last_day < d.warranty_end <= last_day + dt.timedelta(days=90)
    )
    assert [(w.ends, w.device.id) for w in report.warranty] == expected
    assert len(expected) == 6

    # Prevention counts come through as given.
    assert report.inspections == TaskCounts(4, 3, 1)
    assert report.follow_ups is not None and report.follow_ups.mean_score == 90.0

    # Rendered, the figures are what the recount says, in both formats and languages.
    site_shares = {
        s.site.id: 1 - sum(minutes[d.id][1] for d in lab.config.devices if d.site == s.site.id)
        / sum(minutes[d.id][0] for d in lab.config.devices if d.site == s.site.id)
        for s in report.sites
    }  # fmt: skip
    assert site_shares and report.warranty
    for lang in ("zh", "en"):
        doc = monthly_view.document(_with_lang(report, lang), M1)
        for text in (html.render(doc), markdown.render(doc)):
            assert SECRET not in text
            for share in site_shares.values():
                assert f"{share * 100:.3f} %" in text
            assert f"{plan.share_met * 100:.1f} %" in text
            assert f"{fmean(repairs) / 3600:.1f}" in text
            for w in report.warranty:
                assert w.ends.isoformat() in text
    en = markdown.render(monthly_view.document(_with_lang(report, "en"), M1))
    assert "| Inspections | 4 | 3 | 1 | - |" in en
    assert "| Follow-up visits | 2 | 2 | 0 | 90.0 (2) |" in en
    assert recount
    for key, count in recount.items():
        label = {"-": "Hotline, unclassified"}.get(key, f"{key}: ")
        assert any(
            ln.startswith(f"| {label}") and ln.endswith(f"| {count} |") for ln in en.splitlines()
        )
    assert f"| Mean time to acknowledge (MTTA) | {fmean(acks) / 3600:.1f} h |" in en
    zh = html.render(monthly_view.document(report, M1))
    assert "月度运维服务报告" in zh and "<svg" in zh and "<script" not in zh


def _with_lang(report: MonthlyReport, lang: str) -> MonthlyReport:
    import dataclasses

    return dataclasses.replace(report, lang=lang)


async def test_a_month_in_progress_counts_until_now_and_says_so(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Config.model_validate(config_data("sqlite://"))
    lab = MonthLab(store, config)
    await seed_month(lab)
    now = M0 + dt.timedelta(days=6)  # after the switch outage, before anything else
    span = period.month("2026-06", "Asia/Shanghai", now)
    report = monthly.build(store, config.contracts[0], span, "en", NoWindows(), NoTasks())
    assert span.as_of == now and not span.complete
    assert report.tickets.total == 2  # the camera and the switch
    assert report.inspections is None and report.follow_ups is None
    md = markdown.render(monthly_view.document(report, now))
    assert "the month is not over" in md and "not recorded" in md
    nvr = next(ln for s in report.sites for ln in s.devices if ln.device.id == "nvr1")
    assert nvr.uptime.observed == dt.timedelta(days=6)


def test_a_bad_month_is_named() -> None:
    with pytest.raises(period.PeriodError, match="'2026-13'.*YYYY-MM"):
        period.month("2026-13", "UTC", M0)
