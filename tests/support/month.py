"""A seeded month for the report tests, built through the daemon's own paths.

State changes go to the store as the recorder writes them and to the ticket desk as the
daemon hands them over; engineers act through `tickets.append`, customers call through
`open_hotline`; the clock pass records SLA warnings and breaches. Every instant is given
(injected), nothing sleeps. June 2026 in Asia/Shanghai starts at 2026-05-31 16:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.store.records import OperationEvent, SavedState, WindowRecord
from monitord.ticketing import tickets
from monitord.ticketing.desk import TicketDesk
from monitord.ticketing.lifecycle import EventKind
from tests.support.contracts import CONTRACTS

M0 = dt.datetime(2026, 5, 31, 16, 0, tzinfo=dt.UTC)  # 2026-06-01 00:00 in Shanghai
M1 = dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC)  # 2026-07-01 00:00 in Shanghai
SECRET = "s3cret-community-Zq7"  # an SNMP community that must appear in no report


def at(days: float = 0, hours: float = 0, minutes: float = 0) -> dt.datetime:
    return M0 + dt.timedelta(days=days, hours=hours, minutes=minutes)


def _device(id_: str, kind: str, site: str, n: int, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "name": id_.upper(), "kind": kind, "site": site,
            "address": f"10.9.0.{n}", **extra}  # fmt: skip


def config_data(database: str) -> dict[str, Any]:
    contracts = yaml.safe_load((CONTRACTS / "seed-000.yaml").read_text(encoding="utf-8"))
    cam = {"parents": ["sw1"], "warranty_end": "2026-08-15"}
    return {
        "database": database,
        "contracts": contracts["contracts"],
        "sites": [
            {"id": "s1", "name": "阳光小区", "zone": "city", "contract": "seed-000"},
            {"id": "s2", "name": "县城校区", "zone": "county", "contract": "seed-000"},
        ],
        "devices": [
            _device("sw1", "switch", "s1", 1, warranty_end="2026-07-10",
                    snmp={"version": "2c", "community": {"env": "REPORT_TEST_COMMUNITY"}}),
            _device("nvr1", "nvr", "s1", 2, warranty_end="2027-12-31"),
            *[_device(f"cam-{i}", "camera", "s1", 10 + i, **cam) for i in range(1, 5)],
            _device("sw2", "switch", "s2", 3, warranty_end="2026-06-20"),
            _device("cam-5", "camera", "s2", 20, parents=["sw2"], warranty_end="2026-09-28"),
            _device("cam-6", "camera", "s2", 21, parents=["sw2"], warranty_end="2026-10-05"),
            # Enough cameras that one dark camera is not "30 % of the site dark" (class A).
            *[_device(f"cam-{i}", "camera", "s2", 20 + i, parents=["sw2"]) for i in range(7, 11)],
            _device("acs1", "access_controller", "s2", 40),
        ],
        # The agreed window of step 3 (local time: 2026-06-11 00:00 CST is at(10)).
        "maintenance": [
            {"id": "nvr-disk-swap", "device": "nvr1", "start": "2026-06-11T00:00:00",
             "duration": "4h", "reason": "硬盘更换"},
        ],
    }  # fmt: skip


class MonthLab:
    """The store, a tracker and a desk; `state` is what the daemon does on a HARD change."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store, self.config = store, config
        store.devices.sync(
            site_records(config), [device_record(d) for d in config.devices], at(-20)
        )
        self.tracker = HealthTracker(
            {d.id: config.icmp_for(d) for d in config.devices}, topology(config)
        )
        self.desk = TicketDesk(store, FakeClock(at(-20)), config, messages=Routing.from_config)

    async def state(
        self, when: dt.datetime, *changes: tuple[str, State], desk: bool = True
    ) -> None:
        """Devices change together at `when`: recorded first, then handed to the desk."""
        moves = []
        for device, to in changes:
            health = self.tracker.devices[device]
            moves.append(Transition(device, when, health.state, to, "seeded", {}))
            health.state = to
        self.store.states.record_changes(
            [
                (
                    OperationEvent(t.device_id, t.at, "state", t.from_state.value,
                                   t.to_state.value, t.reason, {}),
                    SavedState(t.device_id, t.to_state.value, t.at, t.at, t.reason),
                )
                for t in moves
            ]
        )  # fmt: skip
        if desk:
            for t in moves:
                await self.desk.on_transition(t, self.tracker)

    def ticket_of(self, device: str) -> int:
        found = [
            t.id for t in self.store.tickets.recent(None, None, 1000) if t.root_device == device
        ]
        assert found, f"no ticket for {device}"
        return max(found)

    def act(self, ticket: int, kind: EventKind, when: dt.datetime, text: str = "") -> None:
        tickets.append(self.store, ticket, kind, "engineer-li", when, text or kind.value)

    def tick(self, when: dt.datetime) -> None:
        self.desk.tick(when)


async def seed_month(lab: MonthLab) -> dict[str, int]:
    """The month the tests report on; returns the ticket ids by name."""
    devices = [d.id for d in lab.config.devices]
    ids: dict[str, int] = {}
    await lab.state(at(-10), *((d, State.UP) for d in devices))
    # A May ticket: cam-3 down since the eve of June, back 1 h into it (1 h of June downtime,
    # no June failure, no June ticket).
    await lab.state(at(hours=-2), ("cam-3", State.DOWN))
    await lab.state(at(hours=1), ("cam-3", State.UP))
    # 1. A camera (B): on site in 5 h, plan in 10 h: both met.
    await lab.state(at(2), ("cam-1", State.DOWN))
    ids["cam"] = t = lab.ticket_of("cam-1")
    lab.act(t, EventKind.ACKNOWLEDGED, at(2, minutes=30))
    await lab.state(at(2, hours=3), ("cam-1", State.UP))
    lab.act(t, EventKind.ON_SITE, at(2, hours=5))
    lab.act(t, EventKind.DIAGNOSIS, at(2, hours=6), "镜头进水,电源模块损坏\nPSU burnt")
    lab.act(t, EventKind.PLAN, at(2, hours=10), "更换电源模块")
    lab.act(t, EventKind.STAGE, at(2, hours=12), "已订购配件")
    lab.act(t, EventKind.STAGE, at(2, hours=16), "配件到货,已更换")
    lab.act(t, EventKind.RESOLVED, at(2, hours=20), "维护完成,画面恢复")
    tickets.append(lab.store, t, EventKind.VERIFIED, "物业王经理", at(3), "验收合格")
    lab.act(t, EventKind.CLOSED, at(3, hours=1))
    # 2. The switch of s1 with its 4 cameras (A, city: on site in 2 h): there in 3 h, breached.
    await lab.state(
        at(5), ("sw1", State.DOWN), *((f"cam-{i}", State.UNREACHABLE) for i in range(1, 5))
    )
    ids["switch"] = t = lab.ticket_of("sw1")
    lab.act(t, EventKind.ON_SITE, at(5, hours=3))
    lab.tick(at(5, hours=3))
    await lab.state(
        at(5, hours=6), ("sw1", State.UP), *((f"cam-{i}", State.UP) for i in range(1, 5))
    )
    lab.act(t, EventKind.RESOLVED, at(5, hours=8), "更换交换机电源")
    lab.act(t, EventKind.PLAN, at(5, hours=30), "补充:交换机电源更换方案")  # late, but within 48 h
    # 3. The NVR down for 2 h inside an agreed maintenance window: no ticket, no downtime.
    await lab.state(at(10, hours=1), ("nvr1", State.DOWN), desk=False)
    await lab.state(at(10, hours=3), ("nvr1", State.UP), desk=False)
    # 4. A county camera (B): on site in 30 h (met); no plan within 72 h: breached; unresolved.
    await lab.state(at(12), ("cam-5", State.DOWN))
    ids["county"] = t = lab.ticket_of("cam-5")
    lab.act(t, EventKind.ACKNOWLEDGED, at(12, hours=2))
    await lab.state(at(13), ("cam-5", State.UP))
    lab.act(t, EventKind.ON_SITE, at(12, hours=30))
    lab.tick(at(16))
    # 5. A hotline call: first reply in 20 min, resolved in 2 days (both met).
    contract = lab.config.contracts[0]
    hotline = tickets.open_hotline(
        lab.store, contract, "s2", "客服张", "门口摄像头画面模糊", at(20)
    )
    ids["hotline"] = hotline.id
    lab.act(hotline.id, EventKind.ACKNOWLEDGED, at(20, minutes=20))
    lab.act(hotline.id, EventKind.RESOLVED, at(22))
    # 6. A flapping camera (C): acknowledged after 80 h (respond 72 h: breached); no plan by
    # 108 h (breached at the month's end, 120 h after opening).
    await lab.state(at(25), ("cam-6", State.FLAPPING))
    ids["flapping"] = t = lab.ticket_of("cam-6")
    await lab.state(at(25, hours=10), ("cam-6", State.UP))
    lab.act(t, EventKind.ACKNOWLEDGED, at(25, hours=80))
    # 7. An access controller down near the end (B): its 48 h on-site clock runs into July.
    await lab.state(at(29, hours=20), ("acs1", State.DOWN))
    ids["acs"] = lab.ticket_of("acs1")
    # 8. Two flaps of cam-2 (two failures, 40 min down in all); sw2 down during planned work.
    for start in (at(7), at(8)):
        await lab.state(start, ("cam-2", State.DOWN), desk=False)
        await lab.state(start + dt.timedelta(minutes=20), ("cam-2", State.UP), desk=False)
    # sw2's firmware upgrade: a window started by hand ("I'm on this switch for 70 min").
    lab.store.windows.add(
        WindowRecord(0, None, "sw2", None, at(18, minutes=-10), at(18, hours=1),
                     "固件升级", "engineer-li", at(18, minutes=-10))
    )  # fmt: skip
    await lab.state(at(18), ("sw2", State.DOWN), desk=False)
    await lab.state(at(18, minutes=45), ("sw2", State.UP), desk=False)
    lab.tick(at(30))
    # July: the controller comes back, a new ticket opens; neither belongs to June.
    await lab.state(at(31), ("acs1", State.UP))
    await lab.state(at(32), ("cam-4", State.DOWN))
    return ids


# The agreed window of step 3, as the recount sees it (the report reads the configuration).
WINDOWS = {
    "nvr1": [(at(10), at(10, hours=4))],
    "sw2": [(at(18, minutes=-10), at(18, hours=1))],
}


def fleet_data(database: str, sites: int, per_site: int) -> dict[str, Any]:
    """The seeded month's configuration and `sites` more sites of `per_site` cameras each:
    the report at fleet size, the seeded scenario unchanged beside it."""
    data = config_data(database)
    for s in range(sites):
        site = f"f{s:02d}"
        data["sites"].append({"id": site, "name": f"园区 {s}", "zone": "city",
                              "contract": "seed-000"})  # fmt: skip
        data["devices"] += [
            {"id": f"{site}-cam-{i:03d}", "name": f"{site.upper()} 摄像机 {i}", "kind": "camera",
             "site": site, "address": f"10.{20 + s}.{i // 200}.{i % 200 + 1}",
             # The first site's cameras were bought together: their warranties end together.
             **({"warranty_end": "2026-08-01"} if s == 0 else {})}
            for i in range(per_site)
        ]  # fmt: skip
    return data


def seed_fleet(lab: MonthLab) -> None:
    """One outage for four devices in five of the added sites, recorded as the recorder
    would (in one batch, not ticketed), of lengths that differ, so that the worst devices
    are a choice. Call after `seed_month` (which brings every device up)."""
    fleet = [d.id for d in lab.config.devices if d.site.startswith("f")]
    rows = []
    for k, device in enumerate(fleet):
        if k % 5 == 0:
            continue
        down = at(days=1 + k % 27, minutes=k % 60)
        up = down + dt.timedelta(minutes=10 + k % 97)
        for when, old, new in ((down, "up", "down"), (up, "down", "up")):
            rows.append((OperationEvent(device, when, "state", old, new, "seeded", {}),
                         SavedState(device, new, when, when, "seeded")))  # fmt: skip
    lab.store.states.record_changes(sorted(rows, key=lambda r: r[0].at))
