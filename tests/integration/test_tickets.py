"""Tickets on a real store (SQLite and PostgreSQL): exactly once, impact, class, clocks, CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.ticketing.desk import TicketDesk
from tests.support.ticketlab import CAMERAS, T0, Lab, config_data


@pytest.fixture
def lab(store: Store) -> Lab:
    return Lab(store)


class TestFaultsToTickets:
    async def test_a_switch_with_12_cameras_behind_it_is_one_class_a_ticket(self, lab: Lab) -> None:
        for d in ["sw", "nvr", *CAMERAS]:
            lab.tracker.devices[d].state = State.UP
        await lab.set("sw", State.DOWN)
        for camera in CAMERAS:
            await lab.set(camera, State.UNREACHABLE, 1)
        [ticket] = lab.store.tickets.recent()
        assert (ticket.root_device, ticket.ticket_class) == ("sw", "A")
        assert set(ticket.impacted) == {"sw", *CAMERAS}
        kinds = [e.kind for e in lab.store.tickets.events(ticket.id)]
        assert kinds[0] == "opened" and "reclassified" in kinds  # B (switch-down) -> A
        assert ticket.rule == "cameras-dark-30pct"

    async def test_cameras_cut_off_at_once_join_the_switch_ticket_at_once(self, lab: Lab) -> None:
        # A storm: every camera is confirmed UNREACHABLE while the others' writes are under
        # way. Each call returns once its camera is on the ticket; none waits out a retry.
        for d in ["sw", "nvr", *CAMERAS]:
            lab.tracker.devices[d].state = State.UP
        await lab.set("sw", State.DOWN)
        storm = asyncio.gather(*(lab.set(c, State.UNREACHABLE, 1) for c in CAMERAS))
        await asyncio.wait_for(storm, timeout=10)  # the FakeClock never ends a retry wait
        [ticket] = lab.store.tickets.recent()
        assert ticket.impacted == ("sw", *CAMERAS)
        assert (ticket.ticket_class, ticket.rule) == ("A", "cameras-dark-30pct")
        events = lab.store.tickets.events(ticket.id)
        assert [e.seq for e in events] == list(range(1, ticket.version + 1))

    async def test_roots_failing_at_once_get_what_one_at_a_time_gets(
        self, lab: Lab, tmp_path: Path
    ) -> None:
        # A storm's openings share a batch (issue 15): the tickets, their event logs and
        # their messages are what the same faults make one after the other.
        alone = Store.open(f"sqlite:///{tmp_path / 'alone.db'}")
        alone.upgrade()
        try:
            one_by_one = Lab(alone)
            for each in (lab, one_by_one):
                for d in ["sw", "nvr", *CAMERAS]:
                    each.tracker.devices[d].state = State.UP
            await asyncio.gather(lab.set("sw", State.DOWN), lab.set("nvr", State.DOWN))
            storm = asyncio.gather(*(lab.set(c, State.UNREACHABLE, 1) for c in CAMERAS))
            await asyncio.wait_for(storm, timeout=10)
            await one_by_one.set("sw", State.DOWN)
            await one_by_one.set("nvr", State.DOWN)
            for c in CAMERAS:
                await one_by_one.set(c, State.UNREACHABLE, 1)
            batched, single = _picture(lab.store), _picture(alone)
        finally:
            alone.close()
        assert set(batched) == {"sw", "nvr"}
        assert batched["sw"][:3] == (("sw", *CAMERAS), "A", "cameras-dark-30pct")
        assert batched == single

    async def test_roots_whose_cameras_follow_at_once_grow_and_are_raised_together(
        self, store: Store, tmp_path: Path
    ) -> None:
        # Two switches' tickets open as B (switch down), then all their cameras are confirmed
        # at once: the impacts grow and the classes rise to A in shared batches, with the
        # same logs and messages as one root at a time.
        alone = Store.open(f"sqlite:///{tmp_path / 'alone.db'}")
        alone.upgrade()
        config = _two_switches()
        try:
            storm, one_by_one = Lab(store, config=config), Lab(alone, config=config)
            for each in (storm, one_by_one):
                for d in each.tracker.devices.values():
                    d.state = State.UP
            await asyncio.gather(storm.set("sw", State.DOWN), storm.set("sw2", State.DOWN))
            assert {t.ticket_class for t in store.tickets.recent()} == {"B"}
            cameras = [d.id for d in config.devices if d.kind.value == "camera"]
            both = asyncio.gather(*(storm.set(c, State.UNREACHABLE, 1) for c in cameras))
            await asyncio.wait_for(both, timeout=10)
            for root in ("sw", "sw2"):
                await one_by_one.set(root, State.DOWN)
            for c in cameras:
                await one_by_one.set(c, State.UNREACHABLE, 1)
            batched, single = _picture(store), _picture(alone)
        finally:
            alone.close()
        assert {root: p[1] for root, p in batched.items()} == {"sw": "A", "sw2": "A"}
        assert all(p[3].get("reclassified") == 1 for p in batched.values())
        assert batched == single

    async def test_a_camera_back_before_its_switch_stays_on_the_ticket(self, lab: Lab) -> None:
        # Found by the kill test: a restart while the cameras come back re-read the fault
        # and shrank the ticket to the devices still dark.
        for d in ["sw", "nvr", *CAMERAS]:
            lab.tracker.devices[d].state = State.UP
        await lab.set("sw", State.DOWN)
        for camera in CAMERAS:
            await lab.set(camera, State.UNREACHABLE, 1)
        await lab.set("cam-01", State.UP, 30)  # answers again before the switch does
        # a restarted daemon
        again = TicketDesk(lab.store, lab.clock, lab.config, messages=Routing.from_config)
        await again.reconcile(lab.tracker)
        [ticket] = lab.store.tickets.recent()
        assert set(ticket.impacted) == {"sw", *CAMERAS}

    async def test_same_fault_twice_and_a_restart_make_one_ticket(self, lab: Lab) -> None:
        lab.tracker.devices["nvr"].state = State.UP
        await lab.set("nvr", State.DOWN)
        await lab.set("nvr", State.DOWN)
        # a restarted daemon
        again = TicketDesk(lab.store, lab.clock, lab.config, messages=Routing.from_config)
        await again.reconcile(lab.tracker)
        [ticket] = lab.store.tickets.recent()
        assert (ticket.ticket_class, ticket.rule) == ("A", "nvr-down")

    async def test_recovery_is_noted_but_the_ticket_stays_open(self, lab: Lab) -> None:
        await lab.set("nvr", State.DOWN)
        await lab.set("nvr", State.UP, 30)
        [ticket] = lab.store.tickets.recent()
        assert ticket.recovered and ticket.status == "open"

    async def test_a_fault_back_soon_after_closing_reopens_the_same_ticket(self, lab: Lab) -> None:
        from monitord.ticketing import tickets
        from monitord.ticketing.lifecycle import EventKind

        await lab.set("cam-01", State.DOWN)
        [first] = lab.store.tickets.recent()
        for i, kind in enumerate([EventKind.RESOLVED, EventKind.VERIFIED, EventKind.CLOSED]):
            tickets.append(lab.store, first.id, kind, "eng", T0 + dt.timedelta(hours=1 + i))
        await lab.set("cam-01", State.UP, 200)
        await lab.set("cam-01", State.DOWN, 300)  # 5 h later: within 24 h
        assert [t.id for t in lab.store.tickets.recent()] == [first.id]
        assert lab.store.tickets.recent()[0].status == "open"
        for i, kind in enumerate([EventKind.RESOLVED, EventKind.VERIFIED, EventKind.CLOSED]):
            tickets.append(lab.store, first.id, kind, "eng", T0 + dt.timedelta(hours=6 + i))
        await lab.set("cam-01", State.UP, 600)
        await lab.set("cam-01", State.DOWN, 3 * 24 * 60)  # days later: a new ticket
        assert len(lab.store.tickets.recent()) == 2

    async def test_clock_warnings_and_breach_are_recorded_once(self, lab: Lab) -> None:
        await lab.set("nvr", State.DOWN)  # A: on site within 2 h (city)
        [ticket] = lab.store.tickets.recent()
        assert lab.desk.tick(T0 + dt.timedelta(minutes=59)) == 0
        assert lab.desk.tick(T0 + dt.timedelta(minutes=61)) == 1  # 50 %
        assert lab.desk.tick(T0 + dt.timedelta(minutes=100)) == 1  # 80 %
        assert lab.desk.tick(T0 + dt.timedelta(minutes=110)) == 0
        assert lab.desk.tick(T0 + dt.timedelta(minutes=121)) == 1  # breached
        assert lab.desk.tick(T0 + dt.timedelta(hours=30)) == 1  # 50 % of the 48 h plan
        kinds = [(e.kind, e.data.get("milestone")) for e in lab.store.tickets.events(ticket.id)]
        assert kinds.count(("sla_breach", "on_site")) == 1
        assert kinds.count(("sla_warning", "on_site")) == 2


def test_engineer_drives_a_ticket_from_opened_to_closed_with_the_cli(
    tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "monitord.yaml"
    data = config_data(database_url, zone="county")
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    lab_config = Config.model_validate(data)
    store = Store.open(database_url)
    store.upgrade()
    store.devices.sync(site_records(lab_config), [device_record(d) for d in lab_config.devices], T0)
    tracker = HealthTracker(
        {d.id: lab_config.icmp_for(d) for d in lab_config.devices}, topology(lab_config)
    )
    tracker.devices["nvr"].state = State.DOWN
    desk = TicketDesk(store, FakeClock(T0), lab_config, messages=Routing.from_config)
    asyncio.run(desk.reconcile(tracker))
    [ticket] = store.tickets.recent()
    store.close()

    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(main, ["-c", str(config), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    shown = json.loads(cli("ticket", "show", str(ticket.id), "--json"))
    due = {d["milestone"]: d["due"] for d in shown["deadlines"]}
    assert due == {
        "on_site": (T0 + dt.timedelta(hours=24)).isoformat(),  # county: 24 h
        "plan": (T0 + dt.timedelta(hours=48)).isoformat(),
    }
    refused = runner.invoke(
        main, ["-c", str(config), "ticket", "close", str(ticket.id), "--by", "li"]
    )
    assert refused.exit_code == 1 and "'closed' is not possible" in refused.output
    for action in ["ack", "onsite", "diagnose", "plan", "stage", "resolve"]:
        cli("ticket", action, str(ticket.id), "--by", "eng-li", f"{action} notes")
    cli("ticket", "verify", str(ticket.id), "--by", "customer-wang", "accepted")
    assert "status closed" in cli("ticket", "close", str(ticket.id), "--by", "manager-zhao")
    final = json.loads(cli("ticket", "show", str(ticket.id), "--json"))
    assert final["status"] == "closed"
    assert [e["kind"] for e in final["events"]] == [
        "opened",
        "acknowledged",
        "on_site",
        "diagnosis",
        "plan",
        "stage",
        "resolved",
        "verified",
        "closed",
    ]
    assert final["deadlines"] and all(d["met_at"] for d in final["deadlines"])
    assert "closed" in cli("tickets")


async def test_ticket_metrics_come_from_the_last_clock_pass(lab: Lab) -> None:
    from prometheus_client import CollectorRegistry

    from monitord.ticketing.metrics import TicketCollector

    registry = CollectorRegistry()
    registry.register(TicketCollector(lab.desk))
    await lab.set("nvr", State.DOWN)
    assert (
        registry.get_sample_value(
            "monitord_tickets_open", {"contract": "seed-000", "class": "A", "status": "open"}
        )
        is None
    )  # no pass yet
    lab.desk.tick(T0 + dt.timedelta(minutes=30))
    [ticket] = lab.store.tickets.recent()
    labels = {"ticket": str(ticket.id), "contract": "seed-000", "class": "A"}
    assert (
        registry.get_sample_value(
            "monitord_tickets_open", {"contract": "seed-000", "class": "A", "status": "open"}
        )
        == 1
    )
    assert registry.get_sample_value("monitord_ticket_next_deadline_seconds", labels) == 5400
    lab.desk.tick(T0 + dt.timedelta(hours=3))
    assert registry.get_sample_value("monitord_sla_breaches_total") == 1
    # on site was due at 2 h and is still not met: it stays the nearest, now negative
    assert registry.get_sample_value("monitord_ticket_next_deadline_seconds", labels) == -3600


async def test_time_to_acknowledge_and_to_on_site_are_reported_once(store: Store) -> None:
    from monitord.ticketing import tickets as ticket_ops
    from monitord.ticketing.lifecycle import EventKind

    lab = Lab(store)
    seen: list[tuple[str, float]] = []
    lab.desk = TicketDesk(
        store,
        lab.clock,
        lab.config,
        on_response=lambda kind, s: seen.append((kind, s)),
        messages=Routing.from_config,
    )
    await lab.set("nvr", State.DOWN)
    [ticket] = store.tickets.recent()
    ticket_ops.append(store, ticket.id, EventKind.ACKNOWLEDGED, "li", T0 + dt.timedelta(minutes=3))
    lab.desk.tick(T0 + dt.timedelta(minutes=4))  # first pass: history, not news
    ticket_ops.append(store, ticket.id, EventKind.ON_SITE, "li", T0 + dt.timedelta(minutes=90))
    lab.desk.tick(T0 + dt.timedelta(minutes=91))
    lab.desk.tick(T0 + dt.timedelta(minutes=92))
    assert seen == [("on_site", 5400.0)]


def _two_switches() -> Config:
    """The lab's site with a second switch and its own 12 cameras."""
    data = config_data("sqlite://", "city")
    devices: list[dict[str, object]] = data["devices"]  # type: ignore[assignment]
    devices.append({"id": "sw2", "name": "Yard switch", "kind": "switch",
                    "address": "10.0.0.3", "site": "s1"})  # fmt: skip
    devices += [
        {"id": f"yard-{i:02d}", "name": f"yard-{i:02d}", "kind": "camera", "site": "s1",
         "address": f"10.0.2.{i}", "parents": ["sw2"]}
        for i in range(1, 13)
    ]  # fmt: skip
    return Config.model_validate(data)


def _picture(store: Store) -> dict[str | None, tuple[object, ...]]:
    """Per root: impact, class, rule, what happened (opened, reclassified: once each; how
    many impact events depends on how the cameras' news coalesced), the messages and what
    the other events say."""
    out: dict[str | None, tuple[object, ...]] = {}
    messages = store.outbox.messages(limit=1000)
    for t in store.tickets.recent():
        events = store.tickets.events(t.id)
        assert [e.seq for e in events] == list(range(1, t.version + 1))
        sent = sorted((m.channel, m.recipient) for m in messages if m.ticket_id == t.id)
        kinds = [e.kind for e in events]
        counts = {k: kinds.count(k) for k in sorted(set(kinds)) if k != "impact"}
        said = [(e.kind, e.text) for e in events if e.kind != "impact"]
        out[t.root_device] = (t.impacted, t.ticket_class, t.rule, counts, sent, said)
    return out
