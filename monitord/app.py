"""The daemon: builds the components, runs them in one TaskGroup, handles signals.

Start: load config -> open and migrate the store -> sync the archive -> restore states ->
open ICMP sockets -> serve /metrics -> start checking. SIGTERM/SIGINT stop it (checks are
cancelled, queued records are written, the store is closed) well within 5 s; SIGHUP
reloads the configuration and keeps the old one if the new one is broken.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from monitord import log, sdnotify
from monitord.api import serve_api
from monitord.checks.icmp.client import IcmpMode, Pinger
from monitord.checks.icmp.metrics import DaemonMetrics, FleetCollector
from monitord.checks.icmp.watch import Fleet
from monitord.checks.snmp.service import SnmpService
from monitord.checks.tcp.watch import PortWatch
from monitord.clock import Clock, SystemClock
from monitord.config import Config, ConfigError, load
from monitord.health.recorder import Recorder
from monitord.inventory.archive import device_record, site_records
from monitord.notify.digest import DigestTask
from monitord.notify.dispatcher import Dispatcher
from monitord.notify.escalator import Escalator
from monitord.notify.metrics import OutboxCollector
from monitord.prevention.history import HistoryRecorder
from monitord.prevention.service import PreventionService
from monitord.prevention.task_metrics import TaskCollector
from monitord.prevention.warning_metrics import WarningCollector
from monitord.prevention.warnings import EarlyWarningDesk
from monitord.prevention.window_watch import watch_windows
from monitord.prevention.windows import WindowBook
from monitord.scheduler import Scheduler
from monitord.store import Store, StoreError
from monitord.ticketing.desk import TicketDesk
from monitord.ticketing.metrics import TicketCollector

if TYPE_CHECKING:
    from monitord.checks.onvif.service import OnvifService

_log = log.get("monitord")


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: Config,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.config_path, self.config = config_path, config
        self.clock = clock or SystemClock()
        self.registry = registry or CollectorRegistry()
        self.metrics = DaemonMetrics(self.registry)
        self.metrics.last_reload_ok.set(1)  # the configuration given at start did load
        self.metrics_port: int | None = None
        self.api_port: int | None = None
        self._stop = asyncio.Event()
        self._reloading: asyncio.Task[None] | None = None
        self._snmp: SnmpService | None = None
        self._ports: PortWatch | None = None
        self._onvif: OnvifService | None = None
        self._onvif_task: asyncio.Task[None] | None = None
        self._onvif_deps: tuple[Store, Scheduler] | None = None
        self._desk: TicketDesk | None = None
        self._notifier: Dispatcher | None = None
        self._upkeep: PreventionService | None = None
        self._windows: WindowBook | None = None
        self._warnings: EarlyWarningDesk | None = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self, ready: Callable[[], None] = lambda: None) -> None:
        async with AsyncExitStack() as stack:
            store = Store.open(self.config.database_url)
            stack.callback(store.close)
            await asyncio.to_thread(store.upgrade)
            await self._sync_archive(store, self.config)
            mode = None if self.config.icmp_mode == "auto" else IcmpMode(self.config.icmp_mode)
            pinger = await Pinger.open(mode)
            stack.callback(pinger.close)
            self.metrics.icmp_mode.labels(pinger.mode.value).set(1)
            _log.info("ICMP ready", mode=pinger.mode.value)

            recorder = Recorder(store, self.clock)
            scheduler = Scheduler(
                self.clock,
                lambda device: fleet.check(device),
                self.config.max_in_flight,
                on_lag=self.metrics.scheduler_lag.observe,
                on_error=self._check_failed,
            )
            response = self.metrics.ticket_response
            windows = self._windows = WindowBook(self.config, store, self.clock.monotonic)
            history = HistoryRecorder(store, self.config.history.retention, windows.covers)
            desk = self._desk = TicketDesk(
                store,
                self.clock,
                self.config,
                on_response=lambda kind, seconds: response.labels(kind).observe(seconds),
                windows=windows,
            )
            fleet = Fleet(
                self.config,
                pinger,
                self.clock,
                self.metrics,
                recorder,
                scheduler.check_soon,
                desk,
                history,
            )
            saved = await asyncio.to_thread(store.load_states)
            fleet.restore(saved)
            snmp = self._snmp = SnmpService(
                self.config, store, self.clock, self.registry, scheduler.check_soon, history=history
            )
            snmp.watch.restore(
                {d: s.last_check for d, s in saved.items() if s.last_check},
                await asyncio.to_thread(store.latest_events, "reboot"),
            )
            stack.callback(snmp.close)
            snmp.open()
            ports = self._ports = PortWatch(self.config, store, self.clock, self.registry)
            self._onvif_deps = (store, scheduler)
            stack.push_async_callback(self._stop_onvif)
            await desk.reconcile(fleet.tracker)
            self.registry.register(FleetCollector(fleet, scheduler.overdue))
            self.registry.register(TicketCollector(desk))
            upkeep = self._upkeep = PreventionService(store, self.clock, self.config)
            self.registry.register(TaskCollector(upkeep))
            warnings = self._warnings = EarlyWarningDesk(store, self.clock, self.config, windows)
            self.registry.register(WarningCollector(warnings))
            notifier = self._notifier = Dispatcher(
                store,
                self.clock,
                self.config.notify,
                self.registry,
                contracts=[c.id for c in self.config.contracts],
            )
            self.registry.register(OutboxCollector(notifier, self.clock.now))
            escalator = Escalator(store, self.clock, lambda: desk.routing, self.registry)
            digests = DigestTask(
                store, self.clock, lambda: desk.routing, lambda: self.config.notify.digest
            )
            self._serve_metrics(stack)
            # Stopped before the store closes (the stack unwinds in reverse), within ~2 s.
            self.api_port = await serve_api(stack, store, lambda: self.config, self.clock)
            scheduler.set_devices(fleet.intervals())

            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
                stack.callback(loop.remove_signal_handler, sig)
            loop.add_signal_handler(signal.SIGHUP, self._reload_soon, store, fleet, scheduler)
            stack.callback(loop.remove_signal_handler, signal.SIGHUP)

            writer = asyncio.create_task(recorder.run(), name="recorder")
            checks = asyncio.create_task(scheduler.run(), name="scheduler")
            polls = asyncio.create_task(snmp.run(), name="snmp")
            connects = asyncio.create_task(ports.run(), name="tcp")
            self._start_onvif(self.config)
            clocks = asyncio.create_task(desk.run_clocks(), name="sla-clocks")
            sends = asyncio.create_task(notifier.run(), name="notify")
            escalations = asyncio.create_task(escalator.run(), name="escalation")
            digest = asyncio.create_task(digests.run(), name="digest")
            upkeeping = asyncio.create_task(upkeep.run(), name="inspections")
            settings = self.config.history
            prevention = [
                asyncio.create_task(history.run(self.clock, settings.flush_every), name="history"),
                asyncio.create_task(warnings.run(settings.evaluate_every), name="warnings"),
                asyncio.create_task(
                    watch_windows(desk, fleet.tracker, windows, self.clock), name="windows"
                ),
            ]
            _log.info(
                "monitord started",
                devices=len(fleet.devices),
                sites=len(self.config.sites),
                database=store.url_redacted,
                metrics_port=self.metrics_port,
                api_port=self.api_port,
            )
            watchdog = sdnotify.watchdog_interval()
            if watchdog is not None:
                feeder = asyncio.create_task(sdnotify.keep_watchdog_fed(self.clock, watchdog))
                stack.callback(feeder.cancel)
            sdnotify.notify("READY=1")
            ready()
            await self._stop.wait()
            sdnotify.notify("STOPPING=1")
            _log.info("stopping")
            checks.cancel()
            polls.cancel()
            connects.cancel()
            await asyncio.gather(polls, connects, return_exceptions=True)
            await self._stop_onvif()
            clocks.cancel()
            # A send cut short stays claimed; its lease runs out and the next start repeats it.
            sends.cancel()
            escalations.cancel()
            digest.cancel()
            upkeeping.cancel()
            await asyncio.gather(upkeeping, return_exceptions=True)
            for task in prevention:
                task.cancel()
            await asyncio.gather(
                checks, clocks, sends, escalations, digest, *prevention, return_exceptions=True
            )
            await self._flush_history(history)
            if self._reloading is not None:
                await asyncio.gather(self._reloading, return_exceptions=True)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        _log.info("stopped")

    def _start_onvif(self, config: Config) -> None:
        """ONVIF checks start with the first device that has `onvif:` settings: zeep and
        the WSDLs cost ~20 MB and a second of start-up that sites without ONVIF never pay."""
        if self._onvif is not None or self._onvif_deps is None:
            return
        if not any(d.onvif for d in config.devices):
            return
        from monitord.checks.onvif.service import OnvifService

        store, scheduler = self._onvif_deps
        self._onvif = OnvifService(config, store, self.clock, self.registry, scheduler.check_soon)
        self._onvif_task = asyncio.create_task(self._onvif.run(), name="onvif")

    async def _stop_onvif(self) -> None:
        if self._onvif_task is not None:
            self._onvif_task.cancel()
            await asyncio.gather(self._onvif_task, return_exceptions=True)
        self._onvif_task = None
        if self._onvif is not None:
            await self._onvif.close()

    async def _flush_history(self, history: HistoryRecorder) -> None:
        try:
            await asyncio.to_thread(history.flush, self.clock.now())
        except StoreError as exc:
            _log.error("metric history of the last minutes not recorded", error=str(exc))

    def _serve_metrics(self, stack: AsyncExitStack) -> None:
        settings = self.config.metrics
        server: WSGIServer
        server, thread = start_http_server(settings.port, settings.listen, self.registry)
        self.metrics_port = server.server_port

        def shut() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=2)

        stack.callback(shut)

    def _check_failed(self, device: str, exc: Exception) -> None:
        self.metrics.check_errors.labels("icmp").inc()
        _log.error("check failed inside monitord", device=device, error=repr(exc))

    def _reload_soon(self, store: Store, fleet: Fleet, scheduler: Scheduler) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self._reload(store, fleet, scheduler))

    async def _reload(self, store: Store, fleet: Fleet, scheduler: Scheduler) -> None:
        _log.info("reloading configuration", path=str(self.config_path))
        try:
            config = await asyncio.to_thread(load, self.config_path)
        except Exception as exc:  # noqa: BLE001 - any failure to load is a rejected file
            self.metrics.reloads.labels("failure").inc()
            self.metrics.last_reload_ok.set(0)
            _log.error(
                "configuration rejected; the running one stays",
                errors=[str(issue) for issue in exc.issues]
                if isinstance(exc, ConfigError)
                else [f"{type(exc).__name__}: {exc}"],
            )
            return
        if config.database_url != self.config.database_url:
            _log.warning("database setting changed; it takes effect at the next restart")
        await self._sync_archive(store, config)
        fleet.apply(config)
        if self._snmp is not None:
            self._snmp.apply(config)
        if self._ports is not None:
            self._ports.apply(config)
        if self._onvif is not None:
            self._onvif.apply(config)
        else:
            self._start_onvif(config)
        if self._desk is not None:
            self._desk.apply(config)
        if self._notifier is not None:
            self._notifier.apply(config.notify, [c.id for c in config.contracts])
        if self._upkeep is not None:
            self._upkeep.apply(config)
        if self._windows is not None:
            self._windows.apply(config)
        if self._warnings is not None:
            self._warnings.apply(config)
        scheduler.set_devices(fleet.intervals())
        self.config = config
        self.metrics.reloads.labels("success").inc()
        self.metrics.last_reload_ok.set(1)

    async def _sync_archive(self, store: Store, config: Config) -> None:
        diff = await asyncio.to_thread(
            store.sync_inventory,
            site_records(config),
            [device_record(d) for d in config.devices],
            self.clock.now(),
        )
        if diff.added or diff.changed or diff.removed:
            _log.info(
                "equipment archive updated",
                added=list(diff.added),
                changed=list(diff.changed),
                removed=list(diff.removed),
            )
