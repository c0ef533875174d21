"""The daemon's forwarding-table cycle against snmpsim: MAC -> port history in the store (both
backends) and a class C drift ticket when a camera's MAC shows up on another port or switch,
within one cycle of the move (the recordings are rewritten between cycles), on a fake clock."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.discovery.drift import TableWatch
from monitord.inventory.archive import device_record, site_records
from monitord.notify.messages import Routing
from monitord.prevention.windows import WindowBook
from monitord.store import Store
from monitord.store.records import WindowRecord
from tests.peers.snmp import Snmpsim, snmpsim_missing
from tests.support import topolab
from tests.support.ticketlab import config_data

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
EVERY = 15 * 60


@pytest.fixture
def lab_sim(tmp_path: Path) -> Iterator[tuple[topolab.Lab, Snmpsim, Path]]:
    why = snmpsim_missing()
    if why:
        pytest.skip(why)
    lab = topolab.build(random.Random(5), 3, 4, 0.0, 1.0)
    topolab.write(tmp_path / "data", lab.tables(flood=True))
    with Snmpsim(tmp_path, data=tmp_path / "data", probe="sw0") as sim:
        yield lab, sim, tmp_path


def config(lab: topolab.Lab, sim: Snmpsim, tmp: Path) -> Config:
    data = config_data("sqlite://", "city")
    data["sites"] = [{
        "id": "lab", "name": "Lab", "zone": "city", "contract": "seed-000",
        "discovery": {"ranges": ["127.0.0.1/32"], "rate": 2000, "tables_every": "15m"},
    }]  # fmt: skip
    devices: list[dict[str, object]] = []
    for s in sorted(lab.parent):
        secret = tmp / f"community-sw{s}"
        secret.write_text(f"sw{s}\n", encoding="utf-8")
        snmp = {"community": {"file": str(secret)}, "port": sim.port, "timeout": 0.5, "retries": 0}
        devices.append({"id": f"sw{s}", "name": f"sw{s}", "kind": "switch", "site": "lab",
                        "address": "127.0.0.1", "mac": lab.chassis(s), "snmp": snmp})  # fmt: skip
    for i, (mac, (s, _port)) in enumerate(sorted(lab.cameras.items()), 1):
        devices.append({"id": f"cam-{i:02d}", "name": f"cam {i}", "kind": "camera",
                        "site": "lab", "address": f"10.1.0.{i}", "mac": mac,
                        "parents": [f"sw{s}"]})  # fmt: skip
    data["devices"] = devices
    return Config.model_validate(data)


def rewrite(lab: topolab.Lab, tmp: Path) -> None:
    """What the switches learn now, in the copy snmpsim serves (it re-indexes a changed file)."""
    topolab.write(tmp / "snmpsim" / "data", lab.tables(flood=True))


async def test_a_camera_moved_to_another_port_is_reported_within_one_cycle(
    store: Store, lab_sim: tuple[topolab.Lab, Snmpsim, Path]
) -> None:
    lab, sim, tmp = lab_sim
    cfg = config(lab, sim, tmp)
    store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], T0)
    clock = FakeClock(T0)
    watch = TableWatch(store, clock, cfg, messages=Routing.from_config)
    by_mac = {d.mac: d.id for d in cfg.devices if d.mac}

    assert await watch.step() == EVERY
    last = store.macs.last("lab")
    assert {m: (p.switch, p.port) for m, p in last.items() if m in lab.cameras} == {
        m: (f"sw{s}", f"GigabitEthernet0/0/{port}") for m, (s, port) in lab.cameras.items()
    }
    assert store.tickets.recent() == []  # a first sighting is no move

    macs = sorted(lab.cameras)
    across, along = macs[0], macs[-1]  # one to another switch, one to another port
    (s_across, p_across), (s_along, p_along) = lab.cameras[across], lab.cameras[along]
    other = next(s for s in sorted(lab.parent) if s != s_across)
    lab.cameras[across] = (other, 46)
    lab.cameras[along] = (s_along, 47)
    rewrite(lab, tmp)

    await clock.advance(60)
    assert await watch.step() == EVERY - 60 and watch.reads == 1  # not due yet
    await clock.advance(EVERY - 60)
    await watch.step()
    assert watch.reads == 2
    tickets = {t.root_device: t for t in store.tickets.recent()}
    assert sorted(tickets) == sorted([by_mac[across], by_mac[along]])
    t = tickets[by_mac[across]]
    assert (t.ticket_class, t.rule, t.fault_kind, t.site_id) == (
        "C",
        "early-drift",
        "warning",
        "lab",
    )
    assert "接入位置变化" in t.title
    [opened] = store.tickets.events(t.id)
    old, new = (
        f"sw{s_across} port GigabitEthernet0/0/{p_across}",
        f"sw{other} port GigabitEthernet0/0/46",
    )
    assert f"moved from {old}" in opened.text and f"to {new}" in opened.text, opened.text
    assert f"由 sw{s_across} 端口 GigabitEthernet0/0/{p_across}" in opened.text
    assert opened.data["after"] == {
        "switch": f"sw{other}",
        "port": "GigabitEthernet0/0/46",
        "vlan": 1,
    }
    [along_opened] = store.tickets.events(tickets[by_mac[along]].id)
    assert f"GigabitEthernet0/0/{p_along}" in along_opened.text
    assert "GigabitEthernet0/0/47" in along_opened.text
    history = store.macs.history("lab", across)
    assert [(h.switch, h.port) for h, _first, _last in history] == [
        (f"sw{s_across}", f"GigabitEthernet0/0/{p_across}"),
        (f"sw{other}", "GigabitEthernet0/0/46"),
    ]
    assert history[0][2] == T0 and history[1][1] == T0 + dt.timedelta(seconds=EVERY)

    await clock.advance(EVERY)  # nothing moved since: nothing new
    await watch.step()
    assert watch.reads == 3 and len(store.tickets.recent()) == 2
    assert store.macs.history("lab", across)[1][2] == T0 + dt.timedelta(seconds=2 * EVERY)


async def test_a_cycle_missing_a_switch_judges_nothing(
    store: Store, lab_sim: tuple[topolab.Lab, Snmpsim, Path]
) -> None:
    lab, sim, tmp = lab_sim
    cfg = config(lab, sim, tmp)
    store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], T0)
    clock = FakeClock(T0)
    watch = TableWatch(store, clock, cfg, messages=Routing.from_config)
    await watch.step()
    assert store.macs.last("lab")
    # sw1 stops answering (its community file now names no recording) and a camera moves.
    (tmp / "community-sw1").write_text("not-served\n", encoding="utf-8")
    mac = min(lab.cameras)
    lab.cameras[mac] = (2, 46)
    rewrite(lab, tmp)
    before = store.macs.last("lab")
    await clock.advance(EVERY)
    await watch.step()
    assert watch.reads == 2 and store.macs.last("lab") == before and store.tickets.recent() == []


async def test_a_move_under_a_maintenance_window_is_recorded_but_not_ticketed(
    store: Store, lab_sim: tuple[topolab.Lab, Snmpsim, Path]
) -> None:
    lab, sim, tmp = lab_sim
    cfg = config(lab, sim, tmp)
    store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], T0)
    clock = FakeClock(T0)
    book = WindowBook(cfg, store, clock.monotonic, refresh_every=0)
    watch = TableWatch(store, clock, cfg, book, messages=Routing.from_config)
    await watch.step()
    store.windows.add(
        WindowRecord(0, "lab", None, None, T0, T0 + dt.timedelta(hours=1), "re-cabling", "li", T0)
    )
    mac = min(lab.cameras)
    lab.cameras[mac] = (2, 46)
    rewrite(lab, tmp)
    await clock.advance(EVERY)
    [move] = await watch.read_site(cfg.sites[0])
    assert (move.after.switch, move.after.port) == ("sw2", "GigabitEthernet0/0/46")
    assert store.macs.last("lab")[mac].port == "GigabitEthernet0/0/46"
    assert store.tickets.recent() == []
