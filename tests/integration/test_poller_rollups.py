"""Rollups up the poller link (wire 1.3): the real poller's uplink against the centre's real
HTTPS server on loopback. State changes go first, closed hours after them, each set at the
centre as it was sent (a repeat changes nothing); what the journal's cap dropped is
reported at the centre (a log line naming the poller, its sites and how much; a metric)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from monitord.clock import SystemClock
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.prevention.history import hour_of
from monitord.sites.identity import Identity, enrol
from monitord.sites.journal import Journal
from monitord.sites.link import Link, fingerprint
from monitord.sites.metrics import PollerCollector
from monitord.sites.poller import Uplink
from monitord.sites.wire import PushIn, Rollup
from monitord.store.records import MetricHour
from tests.integration.test_poller_failover import Centre, centre

__all__ = ["centre"]


def rtt(h: int, value: float, device: str = "n-cam") -> MetricHour:
    return MetricHour(device, "icmp_rtt_ms", "", h, 2, 2 * value, value / 2, value * 2)


async def test_state_changes_first_then_closed_hours_once(centre: Centre, tmp_path: Path) -> None:
    state = tmp_path / "poller"
    await asyncio.to_thread(enrol, [centre.url], centre.code, state, fingerprint(
        centre.cert.read_text()))  # fmt: skip
    identity = Identity.load(state)
    link = Link([centre.url], identity.token, state / "pins.pem", timeout=5)
    journal = Journal(state / "journal.db", cap=100_000)
    clock = SystemClock()
    now_hour = hour_of(clock.now())
    try:
        for n, to in enumerate((State.DOWN, State.UP, State.DOWN)):
            at = clock.now() - dt.timedelta(minutes=30 - n)
            journal.append(Transition("n-cam", at, State.UP if n % 2 == 0 else State.DOWN,
                                      to, "icmp", {}))  # fmt: skip
        journal.add_hours([rtt(now_hour - 3, 10.0), rtt(now_hour - 2, 20.0), rtt(now_hour, 5.0)])
        uplink = Uplink(journal, link, clock, 5.0, "")
        await link.push(PushIn(sent_at=clock.now(), version="t"))  # the wire's minor learnt
        await uplink.step()  # state changes and closed hours wait: the changes go up alone
        assert journal.backlog() == 0 and journal.rollups() == 3
        assert centre.store.metric_history.hours("n-cam", "icmp_rtt_ms", 0) == []
        await uplink.step()  # nothing pending: the closed hours, at once (no heartbeat wait)
        got = centre.store.metric_history.hours("n-cam", "icmp_rtt_ms", 0)
        assert [(h.hour, h.n, h.total) for h in got] == [(now_hour - 3, 2, 20.0),
                                                          (now_hour - 2, 2, 40.0)]  # fmt: skip
        assert journal.rollups() == 1  # the open hour waits for its close
        # The answer was lost and the same hours come again: set, not added.
        again = PushIn(sent_at=clock.now(), version="t", rollups=(Rollup(
            device="n-cam", metric="icmp_rtt_ms", hour=now_hour - 3, n=2, total=20.0, low=5.0,
            high=20.0),))  # fmt: skip
        await link.push(again)
        got = centre.store.metric_history.hours("n-cam", "icmp_rtt_ms", 0)
        assert (got[0].hour, got[0].n, got[0].total) == (now_hour - 3, 2, 20.0)
        # The cap: a flood of hours drops the oldest, and the centre hears of it.
        with capture_logs() as poller_logs:
            from monitord.sites.poller import JournalHours

            flood = [rtt(now_hour + h, 1.0, "n-cam") for h in range(390)]  # open hours
            flood += [MetricHour("n-cam", "if_errors_per_s", f"port{p}", now_hour + 1, 1, 0.0,
                                 0.0, 0.0) for p in range(1500)]  # fmt: skip
            JournalHours(journal, identity.poller, identity.sites).add(flood)
        [cut] = [e for e in poller_logs if e["event"].startswith("journal at its cap")]
        assert cut["sites"] == ["north"] and cut["rollups"] > 0 and cut["bytes"] > 0
        dropped = journal.dropped()
        assert dropped is not None and dropped.rollups == cut["rollups"]
        journal.close_hours(now_hour + 400)
        with capture_logs() as logs:
            while journal.finished(1):
                await uplink.step()
            await link.push(PushIn(sent_at=clock.now(), version="t", dropped=dropped))
        told = [e for e in logs if e["event"] == "site poller's journal dropped rollups at its cap"]
        assert len(told) == 1, logs  # once, not at every push that repeats the count
        assert told[0]["poller"] == "p-north" and told[0]["sites"] == ["north"]
        assert told[0]["rollups"] == dropped.rollups and told[0]["bytes"] == dropped.bytes
        registry = CollectorRegistry()
        registry.register(PollerCollector(
            lambda: [p for p in [centre.store.pollers.get("p-north")] if p is not None],
            lambda: centre.poller_centre.dropped))  # fmt: skip
        text = generate_latest(registry).decode()
        assert (
            f'monitord_poller_rollups_dropped_total{{poller="p-north"}} {dropped.rollups}.0' in text
        )
    finally:
        journal.close()
        await link.close()
