"""The shared discovery path's edges: which runs may start, where they run, the ledger."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from monitord.config import Config
from monitord.discovery import ledger
from monitord.discovery.apply import Applied
from monitord.discovery.plan import PlanError, plan, writable
from monitord.discovery.propose import Item
from monitord.discovery.run import Status
from monitord.discovery.runner import LocalRunner, PollerRunner, RunnerUnavailable, runner_for


def config(tmp_path: Path) -> Config:
    disc = {"ranges": ["10.1.0.0/24"]}
    return Config.model_validate({
        "state_dir": str(tmp_path),
        "sites": [{"id": "s1", "name": "S1", "discovery": disc}, {"id": "bare", "name": "B"},
                  {"id": "far", "name": "F", "poller": "far-1", "discovery": disc}],
    })  # fmt: skip


@pytest.mark.parametrize(
    ("site", "ranges", "subject", "key"),
    [("nope", (), "nope", "no_site"), ("bare", (), "bare", "no_discovery"),
     ("s1", ("10.2.0.0/24",), "10.2.0.0/24", "outside_ranges"),
     ("s1", ("10.1.0.x",), "'10.1.0.x' is not a CIDR range", None)],
)  # fmt: skip
def test_a_run_that_may_not_start_says_what_and_why(
    tmp_path: Path, site: str, ranges: tuple[str, ...], subject: str, key: str | None
) -> None:
    with pytest.raises(PlanError) as refused:
        plan(config(tmp_path), site, ranges)
    assert (refused.value.subject, refused.value.key) == (subject, key)


def test_a_narrower_range_is_kept_and_a_poller_site_is_never_probed_from_here(
    tmp_path: Path,
) -> None:
    c = config(tmp_path)
    assert [str(n) for n in plan(c, "s1", ["10.1.0.0/28"]).scope.ranges] == ["10.1.0.0/28"]
    assert isinstance(runner_for(c.sites[0]), LocalRunner)
    far = runner_for(c.sites[2])
    assert isinstance(far, PollerRunner) and not far.available
    with pytest.raises(RunnerUnavailable, match="far-1"):
        asyncio.run(far.run(plan(c, "far"), lambda: dt.datetime.now(dt.UTC), Status()))


def test_the_ledger_keeps_who_applied_what_and_skips_a_damaged_line(tmp_path: Path) -> None:
    new = Item("new", "cam-1", "10.1.0.2", "Dahua", {"id": "cam-1"})
    moved = Item("moved", "cam-2", "10.1.0.3", "sw-1 port 1 -> sw-1 port 2")
    assert writable(new) and not writable(moved)
    at = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
    nothing = Applied(tmp_path / "s1.yaml")
    ledger.record(tmp_path, "s1", [moved], nothing, {"console_user": "li"}, at)
    assert ledger.recent(tmp_path, "s1") == []  # nothing written: nothing to account for
    done = Applied(tmp_path / "s1.yaml", added=["cam-1"])
    ledger.record(tmp_path, "s1", [new], done, {"console_user": "li", "role": "manager"}, at)
    with (tmp_path / ledger.FILE).open("a") as f:
        f.write("{half a line\n")
    ledger.record(tmp_path, "s2", [new], done, {"cli_user": "ops"}, at)
    [entry] = ledger.recent(tmp_path, "s1")
    assert (entry["console_user"], entry["added"], entry["changes"][0]["device"]) == (
        "li", ["cam-1"], "cam-1",
    )  # fmt: skip


def test_the_evidence_is_shown_in_the_readers_language_and_falls_back_to_the_detail() -> None:
    from monitord.present.evidence import evidence

    args = {"configured": "sw-02", "parent": "sw-05", "port": "14"}
    wrong = Item("parent", "cam-07", "10.1.0.7", "cam-07 is configured under sw-02 but its MAC is "
                 "on sw-05 port 14", {"parents": ["sw-05"]}, why="ev_parent_port", args=args)  # fmt: skip
    assert evidence(wrong, "en") == "configured under sw-02, but its MAC is on sw-05 port 14"
    assert evidence(wrong, "zh") == "配置的上级为 sw-02，但其 MAC 出现在 sw-05 端口 14"
    odd = Item("address", "cam-07", "10.1.0.7", "was 10.1.0.9", why="ev_address", args={})
    assert evidence(odd, "zh") == "was 10.1.0.9"
    gaps = Item("facts", "cam-07", "10.1.0.7", "vendor, serial", {"vendor": "Dahua", "serial": "1"},
                why="ev_facts", args={"fields": "vendor, serial"})  # fmt: skip
    assert evidence(gaps, "zh") == "记录缺少：厂商, 序列号"


def test_a_change_set_travels_as_data_and_comes_back_whole_for_its_own_site_only() -> None:
    from monitord.discovery.plan import ChangeSetError, Proposal, follow, progress

    new = Item("new", "cam-1", "10.1.0.2", "Dahua", {"id": "cam-1", "site": "s1",
               "parents": ["sw-1"]}, ("note_poe",), "ev_new_camera", {"what": "Dahua"})  # fmt: skip
    sent = Proposal((new,), 42, ("too big",), 1)
    back = Proposal.of(sent.data("s1"), "s1", "p-1")
    assert (back.items, back.sent, back.refused, back.where) == ((new,), 42, ("too big",), "p-1")
    assert "record" not in sent.data("s1", records=False)["changes"][0]  # the CLI's --json
    with pytest.raises(ChangeSetError, match="another site"):
        Proposal.of(Proposal((new,)).data("s1") | {"site": "s2"}, "s2", "p-1")
    broken = sent.data("s1")
    broken["changes"][0].pop("device")
    with pytest.raises(ChangeSetError, match="change 0"):
        Proposal.of(broken, "s1", "p-1")
    status = Status()
    follow(status, {"stage": "snmp", "ranges": "10.1.0.0/24", "addresses": 254, "probed": 9,
                    "found": 2, "walked": "x"})  # fmt: skip
    assert progress(status) == {"stage": "snmp", "ranges": "10.1.0.0/24", "addresses": 254,
                                "probed": 9, "found": 2, "walked": 0}  # fmt: skip
