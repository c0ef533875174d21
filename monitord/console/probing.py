"""The console's "probe now": `monitord probe`'s look (checks/once.py) run for one device,
bounded in time and rate so a button cannot be used to flood a camera. A local site's device
is probed by the daemon itself; a site poller's device by that poller, through the command
channel (sites/commands.py) - the centre has no route into a site behind NAT.

Per device: one probe at a time, and the next at least `GAP` after the last one started.
The latest result per device is kept in memory (one per configured device, at most) and
shown on the device page after the post/redirect/get.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from monitord.checks.once import ProbeReport, probe
from monitord.checks.seen import ProbeSeen, seen_of
from monitord.config.models import Config, Device
from monitord.present import i18n
from monitord.sites.commands import Commands, Outcome

GAP: Final = dt.timedelta(seconds=5)
TIMEOUT: Final = 20.0  # seconds: ICMP's count x interval, an SNMP fetch, ONVIF's look
_KEEP: Final = 10_000  # results kept at most (a fleet's devices)


@dataclass(frozen=True, slots=True)
class Result:
    at: dt.datetime
    reachable: bool | None  # None: the probe did not finish in time
    lines: tuple[str, ...]  # in the language of whoever pressed the button
    where: str = "local"  # who ran it: "local" (this daemon) or the site poller's id


def _w(key: str, lang: str) -> str:
    return i18n.word(i18n.CONSOLE, key, lang)


Prober = Callable[[Config, Device], Awaitable[ProbeReport]]


class ProbeDesk:
    """Who is probing what now, when each device was last probed, and what was seen."""

    def __init__(self, prober: Prober = probe, timeout: float = TIMEOUT) -> None:
        self._prober, self._timeout = prober, timeout
        self._running: set[str] = set()
        self._started: dict[str, dt.datetime] = {}
        self.results: dict[str, Result] = {}

    def refusal(self, device_id: str, now: dt.datetime) -> str | None:
        """Why a probe may not start now ("probe_busy", "probe_too_soon"), or None."""
        if device_id in self._running:
            return "probe_busy"
        last = self._started.get(device_id)
        if last is not None and now - last < GAP:
            return "probe_too_soon"
        return None

    async def run(
        self, config: Config, device: Device, now: dt.datetime, lang: str,
        via: Commands | None = None,
    ) -> str | None:  # fmt: skip
        """Probe `device` once; None when done (see `results`), else why it did not start.
        With `via`, a device of a poller's site is probed by that poller."""
        refused = self.refusal(device.id, now)
        if refused is not None:
            return refused
        site = next((s for s in config.sites if s.id == device.site), None)
        poller = site.poller if site is not None else "local"
        self._running.add(device.id)
        self._started[device.id] = now
        try:
            if poller == "local" or via is None:
                result = await self._here(config, device, now, lang)
            else:
                result = await self._there(via, poller, device, now, lang)
        finally:
            self._running.discard(device.id)
        if len(self.results) >= _KEEP and device.id not in self.results:
            self.results.pop(next(iter(self.results)))
        self.results[device.id] = result
        return None

    async def _here(self, config: Config, device: Device, now: dt.datetime, lang: str) -> Result:
        try:
            async with asyncio.timeout(self._timeout):
                report = await self._prober(config, device)
        except TimeoutError:
            return Result(now, None, (_w("probe_timeout", lang),))
        return Result(now, report.reachable, lines(seen_of(report), lang))

    async def _there(
        self, via: Commands, poller: str, device: Device, now: dt.datetime, lang: str
    ) -> Result:
        # The poller gets the same time budget; the centre adds the round trips to it.
        outcome: Outcome = await via.result(poller, "probe", {"device": device.id},
                                            within=self._timeout)  # fmt: skip
        if outcome.error is not None:
            key = outcome.error if outcome.error.startswith("cmd_") else "cmd_failed"
            text = _w(key, lang) if key != "cmd_timeout" else _w("probe_timeout", lang)
            return Result(now, None, (text,), poller)
        seen = ProbeSeen.model_validate(outcome.data)
        return Result(now, seen.reachable, lines(seen, lang), poller)


def lines(r: ProbeSeen | ProbeReport, lang: str) -> tuple[str, ...]:
    """What one look saw: ICMP's state, loss and RTT (or why ICMP could not run), then each
    check's status and summary (SNMP, TCP ports, ONVIF)."""
    seen = r if isinstance(r, ProbeSeen) else seen_of(r)
    out = []
    if seen.icmp_state is not None:
        loss = "-" if seen.loss_pct is None else f"{seen.loss_pct:g}"
        figures = [f"{_w('probe_loss', lang)} {loss} %"]
        if seen.rtt_avg_ms is not None:
            figures.append(f"RTT {seen.rtt_avg_ms:.1f} ms")
        out.append(f"ICMP: {i18n.t(seen.icmp_state, lang)} · {' · '.join(figures)}")
        out.append(f"  {seen.icmp_reason}")
    else:
        out.append(f"ICMP: {i18n.t('unavailable', lang)} — {seen.icmp_error}")
    for f in seen.checks:
        out.append(f"[{i18n.t(f.status, lang)}] {f.check}: {f.summary}")
    return tuple(out)
