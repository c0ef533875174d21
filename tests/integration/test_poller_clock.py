"""A poller's clock 10 minutes off: the centre measures the offset (from `sent_at` at first,
NTP-style from the previous exchange's four times after), records events on its own clock
within 2 s of the truth, re-dates future-dated entries, and keeps the offset and backlog."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from monitord.cli import main
from monitord.sites.metrics import PollerCollector
from monitord.sites.wire import WIRE
from monitord.store import Store
from tests.integration.test_pollers_link import T0, Lab, entry, lab

__all__ = ["lab"]


async def push(lab: Lab, token: str, poller_now: dt.datetime, **more: Any) -> dict[str, Any]:
    body = {"v": 1, "sent_at": poller_now.isoformat(), "version": "t", **more}
    r = await lab.http.post(
        "/push", json=body, headers={"authorization": f"Bearer {token}", WIRE: "1"}
    )
    assert r.status_code == 200, r.text
    assert r.headers[WIRE] == "1"
    out: dict[str, Any] = r.json()
    return out


def recorded(lab: Lab, device: str) -> list[dt.datetime]:
    return [e.at for e in lab.store.states.operation_record(device, 50) if e.kind == "state"]


@pytest.mark.parametrize("skew", [-600.0, 600.0])
async def test_a_skewed_poller_records_true_times(lab: Lab, skew: float) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    shift = dt.timedelta(seconds=skew)  # the poller's clock minus the truth
    await lab.clock.advance(31)
    truth = T0 + dt.timedelta(seconds=30)  # when the camera really went down
    first = entry(1, "n-cam", "down", 0)
    first["at"] = (truth + shift).isoformat()
    t0 = lab.clock.now() + shift
    with capture_logs() as logs:
        out = await push(lab, token, t0, entries=[first], backlog=1)
        await push(lab, token, lab.clock.now() + shift)  # a heartbeat: warned once only
    assert out["acked"] == 1
    t1, t2 = out["received_at"], out["answered_at"]
    t3 = lab.clock.now() + shift
    assert abs((recorded(lab, "n-cam")[0] - truth).total_seconds()) <= 2
    warned = [
        e for e in logs if e["event"] == "site poller's clock is off; its times are corrected"
    ]
    assert len(warned) == 1 and abs(warned[0]["offset_s"] + skew) <= 2
    record = lab.store.pollers.get("p-north")
    assert record is not None and record.backlog == 1
    assert record.clock_offset is not None and abs(record.clock_offset + skew) <= 2
    # The next push carries the four times of this exchange: the NTP-style offset.
    await lab.clock.advance(20)
    truth2 = lab.clock.now() - dt.timedelta(seconds=5)
    second = entry(2, "n-cam", "up", 0, frm="down")
    second["at"] = (truth2 + shift).isoformat()
    clock = {"t0": t0.isoformat(), "t1": t1, "t2": t2, "t3": t3.isoformat()}
    await push(lab, token, lab.clock.now() + shift, entries=[second], backlog=0, clock=clock)
    times = sorted(recorded(lab, "n-cam"))
    assert abs((times[1] - truth2).total_seconds()) <= 2
    record = lab.store.pollers.get("p-north")
    assert record is not None and record.backlog == 0
    assert abs(record.clock_offset + skew) <= 2  # type: ignore[operator]
    # What the poller wrote is kept beside the corrected time.
    lines = [e for e in lab.store.states.operation_record("n-cam", 50) if e.kind == "state"]
    assert all("poller_at" in e.observation for e in lines)


async def test_a_future_dated_entry_is_re_dated_to_its_arrival(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    ahead = entry(1, "n-cam", "down", 0)
    # The poller's clock is right now, but this entry was written while it ran 10 min fast.
    ahead["at"] = (lab.clock.now() + dt.timedelta(minutes=10)).isoformat()
    await push(lab, token, lab.clock.now(), entries=[ahead])
    (at,) = recorded(lab, "n-cam")
    assert at == lab.clock.now()
    assert lab.tracker.state("n-cam") is not None


async def test_a_1_0_poller_gets_1_0_answers(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    r = await lab.push(token)  # no WIRE header
    assert set(r.json()) == {"v", "acked", "revision"}
    assert r.headers[WIRE] == "0"


def test_pollers_list_shows_backlog_offset_and_last_seen(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "monitord.yaml"
    path.write_text(
        yaml.safe_dump({"database": database_url, "sites": [{"id": "north", "name": "N"}]})
    )
    store.pollers.add_code("p-north", ["north"], "CODE-CODE-CODE-CODE", T0, dt.timedelta(days=1))
    store.pollers.enrol("CODE-CODE-CODE-CODE", "t" * 43, T0)
    store.pollers.seen("p-north", T0, "0.9", clock_offset=-600.25, backlog=42)
    runner = CliRunner()
    result = runner.invoke(main, ["-c", str(path), "pollers", "list", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["backlog"] == 42 and row["clock_offset_s"] == -600.25
    assert row["last_seen"] == T0.isoformat()
    for lang, words in (("en", ("BACKLOG", "CLOCK OFFSET")), ("zh", ("待上报", "时钟偏差"))):
        result = runner.invoke(main, ["-c", str(path), "--lang", lang, "pollers", "list"])
        assert result.exit_code == 0, result.output
        assert all(w in result.output for w in words) and "-600.2s" in result.output


async def test_per_poller_metrics(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    lab.code("south", "p-south")  # not enrolled: no series
    await push(lab, token, lab.clock.now() - dt.timedelta(seconds=90), backlog=7)
    registry = CollectorRegistry()
    registry.register(PollerCollector(lambda: lab.silence.pollers))
    assert "monitord_poller_backlog{" not in generate_latest(registry).decode()  # no pass yet
    await lab.silence.step()
    text = generate_latest(registry).decode()
    assert 'monitord_poller_backlog{poller="p-north"} 7.0' in text
    assert 'monitord_poller_clock_offset_seconds{poller="p-north"} 90.0' in text
    (seen,) = [ln for ln in text.splitlines() if ln.startswith("monitord_poller_last_seen_s")]
    assert seen.startswith('monitord_poller_last_seen_seconds{poller="p-north"} ')
    assert float(seen.split()[-1]) == lab.clock.now().timestamp()
    assert 'monitord_poller_silent{poller="p-north"} 0.0' in text
    assert "p-south" not in text


def clock_lines(lab: Lab, device: str) -> list[tuple[str | None, str | None]]:
    return [(e.from_state, e.to_state) for e in reversed(lab.store.states.operation_record(
        device, 50)) if e.kind == "finding" and e.observation.get("check") == "poller_clock"]  # fmt: skip


async def test_a_skewed_clock_is_a_finding_once_and_cleared_once(
    lab: Lab, tmp_path: Path, database_url: str
) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    shift = dt.timedelta(minutes=-10)
    await push(lab, token, lab.clock.now())  # a good clock first: nothing to tell
    assert clock_lines(lab, "n-cam") == []
    with capture_logs() as logs:
        for _ in range(3):  # off by 10 minutes at every push: told once, when it crossed
            await lab.clock.advance(5)
            await push(lab, token, lab.clock.now() + shift)
    assert clock_lines(lab, "n-cam") == [("ok", "warning")]
    assert clock_lines(lab, "s-cam") == []  # another poller's site: not its finding
    [line] = [e for e in lab.store.states.operation_record("n-cam", 50) if e.kind == "finding"]
    assert line.observation["poller"] == "p-north" and abs(line.observation["offset_s"] - 600) < 2
    assert "clock is off by +600 s" in line.reason
    assert sum(e["event"] == "site poller's clock is off; its times are corrected"
               for e in logs) == 1  # fmt: skip
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump({"database": database_url, "sites": [{"id": "north",
                                                                         "name": "N"}]}))  # fmt: skip
    runner = CliRunner()
    shown = runner.invoke(main, ["-c", str(path), "pollers", "list", "--json"])
    (row,) = [r for r in json.loads(shown.output) if r["poller"] == "p-north"]
    assert [f["check"] for f in row["findings"]] == ["poller_clock"]
    for lang, word in (("en", "(skewed)"), ("zh", "(偏差过大)")):
        shown = runner.invoke(main, ["-c", str(path), "--lang", lang, "pollers", "list"])
        assert word in shown.output, shown.output
    await lab.clock.advance(5)
    await push(lab, token, lab.clock.now())  # NTP fixed at the site
    await lab.clock.advance(5)
    await push(lab, token, lab.clock.now())
    assert clock_lines(lab, "n-cam") == [("ok", "warning"), ("warning", "ok")]
    shown = runner.invoke(main, ["-c", str(path), "pollers", "list", "--json"])
    (row,) = [r for r in json.loads(shown.output) if r["poller"] == "p-north"]
    assert row["findings"] == []
