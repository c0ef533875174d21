"""Inspections, follow-ups and warranty on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from prometheus_client import CollectorRegistry
from structlog.testing import capture_logs

from monitord.clock import FakeClock
from monitord.config.contracts import TicketClass
from monitord.notify.messages import Routing
from monitord.prevention import followups, inspections, warranty
from monitord.prevention.service import PreventionService
from monitord.prevention.task_metrics import TaskCollector
from monitord.store import Store
from monitord.store.records import FollowUpVisit
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.support.prevention import make_config, sync

T0 = dt.datetime(2026, 1, 15, 4, 0, tzinfo=dt.UTC)


def service(store: Store, at: dt.datetime = T0) -> PreventionService:
    config = make_config()
    sync(store, config, at)
    return PreventionService(store, FakeClock(at), config, messages=Routing.from_config)


def periods(store: Store) -> Counter[tuple[str, str, str]]:
    return Counter((t.site_id, t.kind, t.period) for t in store.inspections.tasks())


def test_downtime_is_caught_up_once_and_restarts_add_nothing(store: Store) -> None:
    first = service(store)
    first.tick(T0)
    assert periods(store)[("b", "nvr", "2026-01")] == 1
    assert periods(store)[("a", "camera", "2026-Q1")] == 1
    assert first.tick(T0 + dt.timedelta(hours=1)).at is not None
    assert sum(periods(store).values()) == 6  # a: 4 kinds quarterly; b: nvr, cameras
    # The daemon is down from mid-January to 10 April; a new process starts.
    april = dt.datetime(2026, 4, 10, 1, 0, tzinfo=dt.UTC)
    again = service(store, april)
    with capture_logs() as logs:
        again.tick(april)
        again.tick(april + dt.timedelta(minutes=10))
    warned = [e for e in logs if e["event"] == "inspections overdue"]
    assert sorted((e["site"], e["overdue"]) for e in warned) == [("a", 4), ("b", 4)]  # once
    service(store, april).tick(april)  # a second daemon on the same database
    found = periods(store)
    assert all(n == 1 for n in found.values()), found
    assert [p for s, k, p in sorted(found) if (s, k) == ("b", "nvr")] == [
        "2026-01", "2026-02", "2026-03", "2026-04",
    ]  # fmt: skip
    assert [p for s, k, p in sorted(found) if (s, k) == ("a", "camera")] == ["2026-Q1", "2026-Q2"]
    board = again.tick(april)
    # Overdue: b's NVR January to March, b's cameras Q1; a's four kinds in Q1.
    assert board.sites[("seed-004", "b")].inspections_overdue == 4
    assert board.sites[("seed-004", "b")].inspections_due == 2
    assert board.sites[("seed-000", "a")].inspections_overdue == 4
    assert board.sites[("seed-000", "a")].inspections_due == 4


def test_quarter_boundary_on_the_sites_clock(store: Store) -> None:
    svc = service(store, dt.datetime(2026, 3, 31, 15, 0, tzinfo=dt.UTC))
    svc.tick(dt.datetime(2026, 3, 31, 15, 59, tzinfo=dt.UTC))  # 23:59 in Shanghai
    assert {p for s, _, p in periods(store) if s == "a"} == {"2026-Q1"}
    svc.tick(dt.datetime(2026, 3, 31, 16, 0, tzinfo=dt.UTC))  # midnight: Q2 begins
    assert {p for s, _, p in periods(store) if s == "a"} == {"2026-Q1", "2026-Q2"}


def test_recording_results_completes_the_task_and_a_failure_opens_one_ticket(
    store: Store,
) -> None:
    svc = service(store)
    svc.tick(T0)
    config = svc.config
    task = next(t for t in store.inspections.tasks(site="a") if t.kind == "camera")
    at = T0 + dt.timedelta(days=3)
    ids = [i["id"] for i in task.items]
    assert len(ids) > 1
    for item in ids[:-1]:
        done, _, ticket = inspections.record(store, config, task.id, item, "pass", "li", at)
        assert done.completed_at is None and ticket is None
    night = ids[-1]
    _, results, ticket_id = inspections.record(
        store, config, task.id, night, "fail", "li", at, "IR dead", "a-cam2", open_ticket=True
    )
    assert ticket_id is not None
    done, results, again = inspections.record(
        store, config, task.id, night, "fail", "li", at, "still", "a-cam2", open_ticket=True
    )
    assert again == ticket_id  # the same failure finds its ticket
    assert done.completed_at == at
    assert [r.result for r in results][-2:] == ["fail", "fail"]
    found = store.tickets.get(ticket_id)
    assert found is not None
    ticket, events = found
    assert (ticket.ticket_class, ticket.root_device, ticket.fault_kind) == ("C", "a-cam2",
                                                                             "inspection")  # fmt: skip
    assert "IR dead" in events[0].text
    assert store.inspections.tasks(site="a", open_only=True).count(done) == 0
    logged = store.inspections.results(site="a", since=at, until=at + dt.timedelta(seconds=1))
    assert [(t.id, r.item) for t, r in logged][-1] == (task.id, night) and len(logged) == 6
    assert store.inspections.results(site="b") == []
    assert store.inspections.results(site="a", until=at) == []
    with pytest.raises(inspections.InspectionError, match="no item 'x'"):
        inspections.record(store, config, task.id, "x", "pass", "li", at)
    with pytest.raises(inspections.InspectionError, match="no device 'b-nvr' at site 'a'"):
        inspections.record(store, config, task.id, night, "fail", "li", at, device="b-nvr")
    with pytest.raises(inspections.InspectionError, match="does not exist"):
        inspections.record(store, config, 999_999, night, "pass", "li", at)


def test_followup_visit_with_a_quality_problem_opens_a_ticket(store: Store) -> None:
    svc = service(store)
    at = dt.datetime(2026, 1, 20, 3, 0, tzinfo=dt.UTC)
    visit = FollowUpVisit(
        "", "a", at, "wang", contact="Ms Zhao", attitude=5, responsibility=4, effect=3,
        score=85, problems="北门摄像机夜间画面发白", suggestions="加装补光灯",
    )  # fmt: skip
    saved = followups.record(store, svc.config, visit, open_ticket=True,
                             ticket_class=TicketClass.B)  # fmt: skip
    assert saved.id > 0 and saved.contract == "seed-000" and saved.quality_problem
    assert saved.ticket_id is not None
    found = store.tickets.get(saved.ticket_id)
    assert found is not None and found[0].ticket_class == "B"
    assert "北门摄像机夜间画面发白" in found[0].title
    [read] = store.followups.visits(site="a")
    assert (read.score, read.attitude, read.contact, read.problems) == (
        85, 5, "Ms Zhao", "北门摄像机夜间画面发白",
    )  # fmt: skip
    with pytest.raises(ValueError, match="attitude must be 1 to 5"):
        store.followups.add(FollowUpVisit("seed-000", "a", at, "wang", attitude=7))
    with pytest.raises(followups.FollowUpError, match="unknown site 'zz'"):
        followups.record(store, svc.config, FollowUpVisit("", "zz", at, "wang"))


def test_followups_due_and_overdue_after_the_first_year(store: Store) -> None:
    # Accepted 2024-02-29; visits counted from 2025-12-01: windows of 3 months by then.
    config = make_config()
    site = config.sites[0].model_copy(update={"followups_since": dt.date(2025, 12, 1)})
    config = config.model_copy(update={"sites": (site, config.sites[1])})
    sync(store, config, T0)
    svc = PreventionService(store, FakeClock(T0), config, messages=Routing.from_config)
    # Windows: 2025-08-29..11-29 (ended before since), 11-29..2026-02-28 (running).
    board = svc.tick(T0)
    assert (board.sites[("seed-000", "a")].followups_due,
            board.sites[("seed-000", "a")].followups_overdue) == (1, 0)  # fmt: skip
    march = dt.datetime(2026, 3, 5, tzinfo=dt.UTC)
    board = svc.tick(march)
    assert (board.sites[("seed-000", "a")].followups_due,
            board.sites[("seed-000", "a")].followups_overdue) == (1, 1)  # fmt: skip
    followups.record(store, config, FollowUpVisit("", "a", march, "wang", score=90))
    board = svc.tick(march)
    assert (board.sites[("seed-000", "a")].followups_due,
            board.sites[("seed-000", "a")].followups_overdue) == (0, 1)  # fmt: skip
    assert ("seed-004", "b") not in board.sites or board.sites[
        ("seed-004", "b")
    ].followups_due == 0  # seed 004 owes no visits by the calendar


def test_one_warranty_ticket_per_site_and_month(store: Store) -> None:
    svc = service(store, dt.datetime(2026, 12, 15, tzinfo=dt.UTC))
    dec = dt.datetime(2026, 12, 15, tzinfo=dt.UTC)
    svc.tick(dec)
    svc.tick(dec + dt.timedelta(days=1))
    found = [t for t in store.tickets.recent() if t.fault_kind == "warranty"]
    assert len(found) == 1  # site a: 5 devices on one ticket; site b: none ending
    ticket = found[0]
    assert (ticket.site_id, ticket.ticket_class) == ("a", "C")
    assert set(ticket.impacted) == {"a-cam1", "a-cam2", "a-cam4", "a-door", "a-sw"}
    # Later in the month a device's cover is found to end soon too: it joins the list.
    nvr = next(d for d in svc.config.devices if d.id == "a-nvr")
    devices = [d for d in svc.config.devices if d.id != "a-nvr"]
    svc.apply(svc.config.model_copy(update={"devices": (
        *devices, nvr.model_copy(update={"warranty_end": dt.date(2027, 1, 10)}))}))  # fmt: skip
    svc.tick(dec + dt.timedelta(days=1, hours=1))
    [ticket] = [t for t in store.tickets.recent() if t.fault_kind == "warranty"]
    assert len(ticket.impacted) == 6 and ticket.impacted[-1] == "a-nvr"
    # Closed within the month: still no second ticket this month.
    for kind in (EventKind.ACKNOWLEDGED, EventKind.RESOLVED, EventKind.VERIFIED,
                 EventKind.CLOSED):  # fmt: skip
        tickets.append(store, ticket.id, kind, "li", dec + dt.timedelta(days=2))
    assert warranty.open_monthly_tickets(store, svc.config, dec + dt.timedelta(days=3),
                                         dt.timedelta(days=90)) == []  # fmt: skip
    january = dt.datetime(2027, 1, 2, tzinfo=dt.UTC)
    board = svc.tick(january)
    assert len([t for t in store.tickets.recent() if t.fault_kind == "warranty"]) == 2
    assert board.sites[("seed-000", "a")].warranty_expiring == 6


def test_metrics_by_site(store: Store) -> None:
    svc = service(store)
    svc.tick(dt.datetime(2026, 2, 10, tzinfo=dt.UTC))
    registry = CollectorRegistry()
    registry.register(TaskCollector(svc))
    labels = {"contract": "seed-004", "site": "b"}
    assert registry.get_sample_value("monitord_inspections_due", labels) == 2
    assert registry.get_sample_value("monitord_inspections_overdue", labels) == 0
    a = {"contract": "seed-000", "site": "a"}
    assert registry.get_sample_value("monitord_followups_due", a) == 1
    assert registry.get_sample_value("monitord_followups_overdue", a) is not None
    assert registry.get_sample_value("monitord_warranty_expiring", a) == 0
    assert registry.get_sample_value("monitord_prevention_passes_failed_total") == 0
