"""The console's "probe now": `monitord probe`'s look (checks/once.py) run by the daemon for
one device, bounded in time and rate so a button cannot be used to flood a camera.

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
from monitord.config.models import Config, Device
from monitord.present import i18n

GAP: Final = dt.timedelta(seconds=5)
TIMEOUT: Final = 20.0  # seconds: ICMP's count x interval, an SNMP fetch, ONVIF's look
_KEEP: Final = 10_000  # results kept at most (a fleet's devices)


@dataclass(frozen=True, slots=True)
class Result:
    at: dt.datetime
    reachable: bool | None  # None: the probe did not finish in time
    lines: tuple[str, ...]  # in the language of whoever pressed the button


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

    async def run(self, config: Config, device: Device, now: dt.datetime, lang: str) -> str | None:
        """Probe `device` once; None when done (see `results`), else why it did not start."""
        refused = self.refusal(device.id, now)
        if refused is not None:
            return refused
        self._running.add(device.id)
        self._started[device.id] = now
        try:
            async with asyncio.timeout(self._timeout):
                report = await self._prober(config, device)
        except TimeoutError:
            result = Result(now, None, (_w("probe_timeout", lang),))
        else:
            result = Result(now, report.reachable, lines(report, lang))
        finally:
            self._running.discard(device.id)
        if len(self.results) >= _KEEP and device.id not in self.results:
            self.results.pop(next(iter(self.results)))
        self.results[device.id] = result
        return None


def lines(r: ProbeReport, lang: str) -> tuple[str, ...]:
    """What one look saw: ICMP's state, loss and RTT (or why ICMP could not run), then each
    check's status and summary (SNMP, TCP ports, ONVIF)."""
    out = []
    if r.icmp is not None:
        obs = r.icmp.observation
        rtt = obs.get("rtt_ms")
        avg = rtt.get("avg") if isinstance(rtt, dict) else None
        figures = [f"{_w('probe_loss', lang)} {obs.get('loss_pct', '-')} %"]
        if isinstance(avg, int | float):
            figures.append(f"RTT {avg:.1f} ms")
        out.append(f"ICMP: {i18n.t(r.icmp.state.value, lang)} · {' · '.join(figures)}")
        out.append(f"  {r.icmp.reason}")
    else:
        out.append(f"ICMP: {i18n.t('unavailable', lang)} — {r.icmp_error}")
    onvif = list(r.onvif.findings) if r.onvif is not None else []
    for f in [*r.findings, *r.tcp, *onvif]:
        out.append(f"[{i18n.t(f.status.value, lang)}] {f.check}: {f.summary}")
    return tuple(out)
