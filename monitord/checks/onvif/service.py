"""ONVIF in the daemon: a scheduler checking devices with `onvif:` settings, and the
PullPoint listeners whose events trigger an immediate re-check (ONVIF and ICMP).

ONVIF checks run on their own `Scheduler`: their interval (5 min) differs from ICMP's, and
a slow camera must not delay pings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from prometheus_client import CollectorRegistry

from monitord import log
from monitord.checks.onvif.client import OnvifClient
from monitord.checks.onvif.fetch import StreamChecker
from monitord.checks.onvif.metrics import OnvifCollector, call_histogram
from monitord.checks.onvif.watch import OnvifWatch
from monitord.checks.rtsp import client as rtsp
from monitord.checks.rtsp.client import StreamCheck
from monitord.clock import Clock
from monitord.config.models import Config
from monitord.health.journal import EventStore
from monitord.scheduler import Scheduler

_log = log.get("monitord.onvif")
# A check is mostly waiting on the device, not on our CPU (bench/onvif_poll.py).
_IN_FLIGHT: Final = 100


async def check_stream(
    uri: str, username: str | None, password: str | None, seconds: float, allow_basic: bool
) -> StreamCheck:
    return await rtsp.check_stream(
        uri, username, password, timeout=seconds, allow_basic=allow_basic
    )


class OnvifService:
    def __init__(
        self,
        config: Config,
        store: EventStore,
        clock: Clock,
        registry: CollectorRegistry,
        recheck: Callable[[Iterable[str]], None],
        client: OnvifClient | None = None,
        stream_check: StreamChecker = check_stream,
    ) -> None:
        calls = call_histogram(registry)
        self.client = client or OnvifClient(
            observe=lambda op, seconds, outcome: calls.labels(op, outcome).observe(seconds)
        )
        self._recheck = recheck
        self.watch = OnvifWatch(config, self.client, store, clock, stream_check, self._on_event)
        self.scheduler = Scheduler(clock, self.watch.poll, _IN_FLIGHT, on_error=_failed)
        registry.register(OnvifCollector(self.watch))
        self.apply(config)

    def apply(self, config: Config) -> None:
        self.watch.apply(config)
        self.scheduler.set_devices(self.watch.intervals())

    async def run(self) -> None:
        try:
            await self.scheduler.run()
        finally:
            await self.watch.listeners.close()

    async def close(self) -> None:
        await self.watch.listeners.close()
        await self.client.close()

    stop = close

    def _on_event(self, device_id: str) -> None:
        # Something happened on the device: look now rather than at the next turn.
        self._recheck([device_id])
        self.scheduler.check_soon([device_id])


def _failed(device: str, exc: Exception) -> None:
    _log.error("ONVIF check failed inside monitord", device=device, error=repr(exc))
