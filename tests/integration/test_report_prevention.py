"""Inspections, follow-up visits and warranties in the monthly report, recorded through the
prevention side's own calls on the seeded month, against a recount of the same records."""

from __future__ import annotations

import datetime as dt
from statistics import fmean
from zoneinfo import ZoneInfo

import pytest

from monitord.config import Config
from monitord.prevention import followups, inspections
from monitord.reports import logs, monthly, period
from monitord.reports.agreed import AgreedWindows
from monitord.reports.recorded import ContractWarranty, RecordedTasks, service_entries
from monitord.store import Store
from monitord.store.records import FollowUpVisit
from tests.support.month import M0, M1, MonthLab, at, config_data, seed_month

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _config() -> Config:
    data = config_data("sqlite://")
    # s1 accepted 2023-06-20: its project warranty (3 years) ended before June; visits every
    # 3 months, one window ending 2026-06-20. s2 accepted 2023-08-01: warranty to 2026-07-31.
    s1, s2 = data["sites"]
    s1.update(acceptance_date="2023-06-20", followups_since="2026-01-01")
    s2.update(acceptance_date="2023-08-01", followups_since="2026-01-01")
    return Config.model_validate(data)


def _visit(site: str, when: dt.datetime, score: int) -> FollowUpVisit:
    return FollowUpVisit("seed-000", site, when, "客服张", contact="物业王经理", attitude=5,
                         responsibility=4, effect=4, score=score)  # fmt: skip


async def test_prevention_figures_match_the_records(store: Store) -> None:
    config = _config()
    lab = MonthLab(store, config)
    await seed_month(lab)
    created = inspections.generate(store, config, at(-10))  # Q2: due at the end of June
    assert {t.period for t in created} == {"2026-Q2"} and len(created) == 6
    finished = {(t.site_id, t.kind) for t in created} - {
        ("s2", "camera"),
        ("s2", "access_controller"),
    }
    for task in created:
        items = [i["id"] for i in task.items]
        if (task.site_id, task.kind) not in finished:
            items = items[:1]  # started, not finished
        for n, item in enumerate(items):
            inspections.record(store, config, task.id, item, "pass", "engineer-li", at(14, hours=n))
    for site, when, score in (("s1", at(-120), 80), ("s1", at(9), 90), ("s2", at(24), 70)):
        followups.record(store, config, _visit(site, when, score))

    contract = config.contracts[0]
    span = period.month("2026-06", "Asia/Shanghai", M1 + dt.timedelta(days=3))
    report = monthly.build(store, contract, span, "en", AgreedWindows(config, store),
                           RecordedTasks(config, store), 90, ContractWarranty(config))  # fmt: skip

    # Inspections: a task is done when every checklist item has a result before July.
    done = 0
    for task in store.inspections.tasks(contract="seed-000"):
        _, results = store.inspections.task(task.id) or (task, [])
        answered = {r.item for r in results if r.at < M1}
        done += answered >= {i["id"] for i in task.items}
    assert report.inspections is not None
    assert (report.inspections.due, report.inspections.done) == (6, done) == (6, 4)
    assert report.inspections.overdue == 6 - done

    # Follow-ups: visits made in June (site time) and their mean score; the windows by hand:
    # due in June: s1's 2026-03-20..06-19; overdue: s2's windows ending 1 Feb and 1 May.
    june = [
        v for v in store.followups.visits(contract="seed-000")
        if v.visited_at.astimezone(SHANGHAI).strftime("%Y-%m") == "2026-06"
    ]  # fmt: skip
    assert report.follow_ups is not None
    assert report.follow_ups.done == len(june) == 2
    assert report.follow_ups.mean_score == fmean(v.score for v in june if v.score) == 80
    assert (report.follow_ups.due, report.follow_ups.overdue) == (1, 2)

    # Warranty: the later of the project's 3 years and the manufacturer's date.
    ends = {w.device.id: w.ends for w in report.warranty}
    assert ends["sw2"] == dt.date(2026, 7, 31)  # manufacturer 20 June, project 31 July
    assert ends["cam-5"] == dt.date(2026, 9, 28)  # manufacturer beyond the project's
    assert ends["sw1"] == dt.date(2026, 7, 10)  # s1's project warranty ended 19 June
    assert "nvr1" not in ends and "cam-6" not in ends

    # The service log of s2 holds its inspection results and its June visit, in time order.
    sites = [x for x in store.devices.sites() if x.id == "s2"]
    june_days = period.days("2026-06-01", "2026-06-30", "Asia/Shanghai", M1)
    rows = logs.entries(store, sites, june_days, service_entries(store, {"s2"}, M0, M1))
    kinds = [(r.event, r.by) for r in rows if r.event in ("inspection", "follow_up")]
    results = sum(len(store.inspections.task(t.id)[1]) for t in created if t.site_id == "s2")  # type: ignore[index]
    assert kinds.count(("follow_up", "客服张")) == 1
    assert kinds.count(("inspection", "engineer-li")) == results
    assert [r.at for r in rows] == sorted(r.at for r in rows)
    assert any("score 70" in r.detail for r in rows)


@pytest.fixture(autouse=True)
def _community(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORT_TEST_COMMUNITY", "unused")
