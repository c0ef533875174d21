"""A site's gap, settled after its replay, on a real store (SQLite and PostgreSQL), over
HTTP in-process on a fake clock (sites/gap.py; issue 14 item 7).

Ten cameras of a poller's site fail while its line is down and three recover inside the
gap. After the heal: tickets for the seven still down, at their own fault times and told
late; one message to the on-call person for the three; every change in the operation
record; the monthly report's availability equal to a recount from this test's own ground
truth. The replay is split by a restart of the centre, and repeated (the same batches
again, another restart, a gap settled twice as a centre killed before it closed the gap
would): nothing changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from sqlalchemy import text

from monitord.api import create_app
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.escalation import due_steps
from monitord.notify.messages import Routing
from monitord.reports import monthly, period
from monitord.reports.sources import NoTasks, NoWindows
from monitord.sites.centre import PollerCentre
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.gap import GapReplay
from monitord.sites.routes import poller_router
from monitord.sites.silence import SilenceWatch
from monitord.sites.wire import PREFIX, WIRE
from monitord.store import Store
from monitord.ticketing.desk import TicketDesk
from monitord.ticketing.lifecycle import as_events
from tests.support.contracts import SEED_000

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 16:00 in Shanghai
MIN = dt.timedelta(minutes=1)
CAMS = [f"n-cam{i}" for i in range(10)]
DOWN_AT = {c: T0 + (7 + i) * MIN for i, c in enumerate(CAMS)}  # all inside the gap
UP_AT = {c: T0 + (20 + 2 * i) * MIN for i, c in enumerate(CAMS[:3])}  # these recover in it
HEAL = T0 + 40 * MIN


def make_config() -> Config:
    hooks = {
        "type": "webhook",
        "name": "chat",
        "url": "http://127.0.0.1:1/chat",
        "format": "wecom",
        "timeout": 5,
        "allow_addresses": ["127.0.0.1/32"],
    }
    return Config.model_validate(
        {
            "contracts": [SEED_000.model_dump(mode="json", by_alias=True)],
            "poller_silence": 60,
            "sites": [{"id": "north", "name": "North compound", "poller": "p-north",
                       "contract": "seed-000"}],
            "devices": [{"id": c, "name": f"Gate {c}", "kind": "camera",
                         "address": f"192.168.1.{10 + i}", "site": "north"}
                        for i, c in enumerate(CAMS)],
            "notify": {
                "channels": [hooks],
                "recipients": {"seed-000": [{"channel": "chat", "language": "en",
                                             "events": ["opened"]}]},
                "oncall": {
                    "people": [{"id": "zhang", "name": "张伟", "chat": "zhangwei"}],
                    "rotations": [{"id": "duty", "contracts": ["seed-000"],
                                   "handover": "daily", "handover_at": "09:00",
                                   "start": "2026-11-01", "people": ["zhang"]}],
                },
                "escalation": [{"id": "all", "classes": ["A", "B", "C", "D"], "steps": [
                    {"after": "0s", "targets": ["oncall"], "channels": ["chat"]},
                    {"after": "15m", "targets": ["oncall"], "channels": ["chat"]},
                ]}],
            },
        }
    )  # fmt: skip


class Centre:
    """One centre process on the shared store: made anew, it is a restarted centre (its
    start as app.py does it: saved states, silent sites held unknown, the desk reconciled)."""

    def __init__(self, store: Store, clock: FakeClock, config: Config) -> None:
        self.tracker = HealthTracker(
            {d.id: config.icmp_for(d) for d in config.devices}, topology(config)
        )
        for device, s in store.states.load().items():
            self.tracker.restore(device, State(s.state), s.since)
        desk = self.desk = TicketDesk(store, clock, config, messages=Routing.from_config)
        self.silence = SilenceWatch(store, clock, lambda: config, self.tracker,
                                    lambda: desk.messages)  # fmt: skip
        gap = GapReplay(store, clock, lambda: config, self.tracker, desk, lambda: desk.messages)
        centre = PollerCentre(store, clock, lambda: config, self.tracker, desk,
                              self.silence.heard_again, gap)  # fmt: skip
        app = create_app(store, lambda: config, clock, [poller_router(store, clock, centre)])
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://centre.test" + PREFIX
        )

    async def start(self) -> Centre:
        await self.silence.hold()
        await self.desk.reconcile(self.tracker)
        return self


class Lab:
    def __init__(self, store: Store) -> None:
        self.store, self.clock, self.config = store, FakeClock(T0), make_config()
        store.devices.sync(
            site_records(self.config), [device_record(d) for d in self.config.devices], T0
        )
        self.token = ""

    async def centre(self) -> Centre:
        return await Centre(self.store, self.clock, self.config).start()

    async def enrolled(self) -> Centre:
        """A centre with p-north enrolled for the north site (its token kept)."""
        code = new_code()
        self.store.pollers.add_code("p-north", ["north"], code, T0, CODE_VALID)
        first = await self.centre()
        reply = await first.http.post("/enrol", json={"v": 1, "code": code})
        self.token = reply.json()["token"]
        return first

    async def push(self, c: Centre, entries: list[dict[str, Any]], backlog: int) -> int:
        body = {"v": 1, "sent_at": self.clock.now().isoformat(), "version": "t",
                "entries": entries, "backlog": backlog}  # fmt: skip
        r = await c.http.post("/push", json=body, headers={
            "authorization": f"Bearer {self.token}", WIRE: "2"})  # fmt: skip
        assert r.status_code == 200, r.text
        return int(r.json()["acked"])

    def seen(self) -> dict[str, Any]:
        """What a repeated replay must leave as it is."""
        with self.store._engine.connect() as db:
            count = {t: db.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                     for t in ("tickets", "ticket_events", "outbox", "operation_events")}  # fmt: skip
        tickets = self.store.tickets.recent(None, None, 100)
        return {**count, "tickets_": sorted((t.id, t.opened_at, t.recovered) for t in tickets)}


def move(seq: int, device: str, at: dt.datetime, frm: str, to: str) -> dict[str, Any]:
    return {"seq": seq, "device": device, "at": at.isoformat(), "from_state": frm,
            "to_state": to, "reason": f"icmp: {to}"}  # fmt: skip


def replay() -> list[dict[str, Any]]:
    """The poller's journal from the gap, in the order it wrote it (seq 11 on)."""
    changes = [(at, c, "up", "down") for c, at in DOWN_AT.items()]
    changes += [(at, c, "down", "up") for c, at in UP_AT.items()]
    changes.sort()
    return [move(11 + i, c, at, frm, to) for i, (at, c, frm, to) in enumerate(changes)]


async def test_faults_in_a_gap_come_back_as_their_true_history_once(store: Store) -> None:
    lab = Lab(store)
    first = await lab.enrolled()
    ups = [move(i + 1, c, T0, "pending", "up") for i, c in enumerate(CAMS)]
    assert await lab.push(first, ups, 10) == 10
    await lab.clock.advance(5 * 60)
    assert await lab.push(first, [], 0) == 10  # the last heartbeat before the line drops
    heard = lab.clock.now()
    await lab.clock.advance(70)
    await first.silence.step()
    assert first.tracker.state(CAMS[0]) == State.UNKNOWN

    # The line returns at HEAL with 13 entries; the centre is killed after the first push.
    await lab.clock.advance((HEAL - lab.clock.now()).total_seconds())
    batch = replay()
    assert await lab.push(first, batch[:7], 13) == 17
    assert [t.fault_kind for t in store.tickets.recent(None, None, 100)] == ["site_link_lost"]
    second = await lab.centre()
    assert second.tracker.state(CAMS[0]) == State.UNKNOWN  # held: no ticket at restart time
    assert [t.fault_kind for t in store.tickets.recent(None, None, 100)] == ["site_link_lost"]
    assert await lab.push(second, batch[7:], 6) == 23

    # Tickets for the seven still down, at their own fault times; none for the three.
    found = {t.root_device: t for t in store.tickets.recent(None, None, 100)}
    link = found.pop(None)
    assert sorted(d or "" for d in found) == CAMS[3:]
    assert {d: t.opened_at for d, t in found.items()} == {c: DOWN_AT[c] for c in CAMS[3:]}
    assert link.opened_at == heard and link.recovered
    _, link_log = store.tickets.get(link.id) or (None, [])
    assert "13 journal entries replayed" in link_log[-1].text
    # Each ticket's messages (the recipient's, in English; the on-call page, in Chinese)
    # say it is told late, and why; its escalation runs from then, not from the fault.
    messages = store.outbox.messages(None, 1000)
    opened = [m for m in messages if m.ticket_id in {t.id for t in found.values()}]
    en = [m for m in opened if m.recipient == ""]
    zh = [m for m in opened if m.recipient == "zhangwei"]
    assert len(en) == len(zh) == 7 and len(opened) == 14
    assert all("[delayed]" in m.subject for m in en)
    assert all("the line to site north was down 2026-12-01 16:05–16:40" in m.body for m in en)
    assert all("[延迟]" in m.subject for m in zh)
    assert all("站点 north 的链路在 2026-12-01 16:05–16:40 中断" in m.body for m in zh)
    paging = Routing.from_config(lab.config).paging
    for t in found.values():
        log = as_events((store.tickets.get(t.id) or (t, []))[1])
        assert due_steps(paging, t, log, HEAL + 14 * MIN)[0] == []  # 15 min after told
        assert [d.step for d in due_steps(paging, t, log, HEAL + 15 * MIN)[0]] == [1]
    # One message to the on-call person for the three that failed and recovered.
    summary = [m for m in messages if m.idempotency_key.startswith("gap/")]
    assert len(summary) == 1 and summary[0].recipient == "zhangwei"
    assert "3 台设备" in summary[0].subject and "16:05–16:40" in summary[0].subject
    for i, c in enumerate(CAMS[:3]):
        assert f"{c}（Gate {c}）：down 16:{7 + i:02d}–16:{20 + 2 * i:02d}" in summary[0].body
    assert not any(c in summary[0].body for c in CAMS[3:])

    # The operation record holds all ten; the report's availability equals a recount.
    record = store.history.operation_events(CAMS, T0, HEAL, ("state",))
    assert sorted((e.device_id, e.at, e.to_state) for e in record if e.at > T0) == sorted(
        [(c, at, "down") for c, at in DOWN_AT.items()] + [(c, at, "up") for c, at in UP_AT.items()]
    )
    now = lab.clock.now()
    span = period.month("2026-12", "Asia/Shanghai", now)
    report = monthly.build(store, lab.config.contracts[0], span, "en", NoWindows(), NoTasks())
    lines = {ln.device.id: ln.uptime for s in report.sites for ln in s.devices}
    for c in CAMS:
        down = UP_AT.get(c, now) - DOWN_AT[c]
        assert (lines[c].observed, lines[c].down, lines[c].failures) == (now - T0, down, 1), c

    # Replays change nothing: the same batches again, a restart, a gap settled twice.
    before = lab.seen()
    await lab.clock.advance(30)  # later pushes: nothing keyed by the time it is settled
    assert await lab.push(second, batch, 13) == 23
    third = await lab.centre()
    assert await lab.push(third, batch[7:], 6) == 23
    assert await lab.push(third, [], 0) == 23
    with store._engine.begin() as db:  # killed after settling, before closing the gap
        db.execute(text("UPDATE pollers SET silent_since = :t"), {"t": heard})
    fourth = await lab.centre()
    assert await lab.push(fourth, [], 0) == 23
    assert lab.seen() == before
    assert store.pollers.get("p-north").silent_since is None  # type: ignore[union-attr]
    for made in (first, second, third, fourth):
        await made.http.aclose()


async def test_a_fault_journaled_before_the_silence_but_heard_only_in_the_replay(
    store: Store,
) -> None:
    """A camera fails a moment before the line drops: its entry missed the last push that
    arrived, so it comes only with the replay, dated before the silence. Its ticket opens
    at its own time, once, told late; one that had its ticket before the gap gets none."""
    lab = Lab(store)
    first = await lab.enrolled()
    ups = [move(i + 1, c, T0, "pending", "up") for i, c in enumerate(CAMS)]
    told_at = T0 + 2 * MIN  # cam1's fault is heard before the gap: its ticket opens then
    await lab.clock.advance(2 * 60)
    assert await lab.push(first, [*ups, move(11, CAMS[1], told_at, "up", "down")], 11) == 11
    await lab.clock.advance(3 * 60)
    assert await lab.push(first, [], 0) == 11  # the last heartbeat that arrived
    heard = lab.clock.now()
    early = heard - dt.timedelta(seconds=1)  # journaled, not yet in a push
    await lab.clock.advance(70)
    await first.silence.step()
    await lab.clock.advance((HEAL - lab.clock.now()).total_seconds())
    second = await lab.centre()  # the replay after a restart, on the saved states alone
    assert await lab.push(second, [move(12, CAMS[0], early, "up", "down")], 1) == 12
    found = {t.root_device: t for t in store.tickets.recent(None, None, 100)}
    assert sorted(d or "" for d in found) == ["", CAMS[0], CAMS[1]]
    assert found[CAMS[0]].opened_at == early and found[CAMS[1]].opened_at == told_at
    _, log0 = store.tickets.get(found[CAMS[0]].id) or (None, [])
    assert log0[0].data.get("delayed", {}).get("poller") == "p-north", log0[0].data
    before = lab.seen()
    with store._engine.begin() as db:  # killed after settling, before closing the gap
        db.execute(text("UPDATE pollers SET silent_since = :t"), {"t": heard})
    third = await lab.centre()
    assert await lab.push(third, [], 0) == 12
    assert lab.seen() == before
    for made in (first, second, third):
        await made.http.aclose()
