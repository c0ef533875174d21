"""The daemon: builds the components, runs them in one TaskGroup, handles signals.

Start: load config -> open and migrate the store -> sync the archive -> restore states ->
open ICMP sockets -> serve /metrics -> start checking. SIGTERM/SIGINT stop it (checks are
cancelled, queued records are written, the store is closed) well within 5 s; SIGHUP
reloads the configuration and keeps the old one if the new one is broken.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from functools import partial
from pathlib import Path

from prometheus_client import CollectorRegistry

from monitord import log, sdnotify
from monitord.centre.leader import Leadership
from monitord.checks.base import WATCHES, Deps, Watch, WatchKind
from monitord.checks.icmp.client import IcmpMode, Pinger
from monitord.checks.icmp.metrics import DaemonMetrics, FleetCollector
from monitord.checks.icmp.watch import Fleet
from monitord.clock import Clock, SystemClock
from monitord.config import Config, ConfigError
from monitord.config.bulk import collector_paused, loop_first, settled, unsettled
from monitord.config.offload import load_apart
from monitord.console.host import Host
from monitord.console.links import Links
from monitord.discovery.drift import TableWatch
from monitord.health.recorder import Recorder
from monitord.inventory.archive import changed_records, device_record, site_records
from monitord.memory import heap
from monitord.metrics import exposition
from monitord.notify.digest import DigestTask
from monitord.notify.dispatcher import Dispatcher
from monitord.notify.escalator import Escalator
from monitord.notify.messages import Routing
from monitord.notify.metrics import OutboxCollector
from monitord.prevention.history import HistoryRecorder
from monitord.prevention.service import PreventionService
from monitord.prevention.task_metrics import TaskCollector
from monitord.prevention.warning_metrics import WarningCollector
from monitord.prevention.warnings import EarlyWarningDesk
from monitord.prevention.window_watch import windows_step
from monitord.prevention.windows import WindowBook
from monitord.scheduler import Scheduler
from monitord.sites.centre import PollerCentre
from monitord.sites.gap import GapReplay
from monitord.sites.metrics import PollerCollector
from monitord.sites.silence import SilenceWatch
from monitord.sites.witness import pinging
from monitord.store import Store, StoreError
from monitord.store.records import InventoryDiff
from monitord.supervise import Step, Supervisor
from monitord.ticketing.desk import TicketDesk
from monitord.ticketing.metrics import TicketCollector

_log = log.get("monitord")


def _ungated(step: Step) -> Step:
    return step


class Daemon:
    def __init__(
        self,
        config_path: Path,
        config: Config,
        clock: Clock | None = None,
        registry: CollectorRegistry | None = None,
        api_socket: socket.socket | None = None,
    ) -> None:
        self.config_path, self.config = config_path, config.settle()
        self.api_socket = api_socket  # a listening socket for the API (the demo's), or bind
        self.clock = clock or SystemClock()
        self.registry = registry or CollectorRegistry()
        self.metrics = DaemonMetrics(self.registry)
        self.metrics.last_reload_ok.set(1)  # the configuration given at start did load
        self.supervisor = Supervisor(self.clock, self.registry)
        self.metrics_port: int | None = None
        self.api_port: int | None = None
        self._stop = asyncio.Event()
        self._reloading: asyncio.Task[None] | None = None
        self._reload_ok = True  # how the newest reload ended
        self._deps: Deps | None = None
        self._watches: dict[str, Watch] = {}  # by the protocol's name, as in WATCHES
        self._desk: TicketDesk[Routing] | None = None
        self._notifier: Dispatcher | None = None
        self._upkeep: PreventionService | None = None
        self._windows: WindowBook | None = None
        self._warnings: EarlyWarningDesk | None = None
        self._tables: TableWatch | None = None
        self._centre: PollerCentre | None = None

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
            stack.callback(recorder.close)  # after the supervisor's last flush, before the store
            scheduler = Scheduler(
                self.clock,
                lambda device: fleet.check(device),
                self.config.max_in_flight,
                on_lag=self.metrics.scheduler_lag.observe,
                on_error=self._check_failed,
                on_beat=partial(self.supervisor.beat, "scheduler"),
            )
            response = self.metrics.ticket_response
            windows = self._windows = WindowBook(self.config, store, self.clock.monotonic)
            history = HistoryRecorder(store, self.config.history.retention, windows.covers)
            desk = self._desk = TicketDesk(
                store,
                self.clock,
                self.config,
                messages=Routing.from_config,  # ticketing's MessageRenderer is notify's
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
            saved = await asyncio.to_thread(store.states.load)
            fleet.restore(saved)
            self._deps = Deps(
                self.config, store, self.clock, self.registry, scheduler.check_soon, history, saved
            )
            stack.push_async_callback(self._stop_watches)
            for kind in WATCHES:
                await self._open_watch(kind, self.config)
            silence = SilenceWatch(
                store, self.clock, lambda: self.config, fleet.tracker, lambda: desk.messages,
                witness=pinging(mode),
            )  # fmt: skip
            await silence.hold()  # a silent site's faults open with their own times, later
            await desk.reconcile(fleet.tracker)
            self.registry.register(FleetCollector(fleet, scheduler.overdue))
            self.registry.register(TicketCollector(desk))
            upkeep = self._upkeep = PreventionService(
                store, self.clock, self.config, messages=Routing.from_config
            )
            self.registry.register(TaskCollector(upkeep))
            warnings = self._warnings = EarlyWarningDesk(
                store, self.clock, self.config, windows, messages=Routing.from_config
            )
            self.registry.register(WarningCollector(warnings))
            tables = self._tables = TableWatch(
                store, self.clock, self.config, windows, messages=Routing.from_config
            )
            notifier = self._notifier = Dispatcher(
                store,
                self.clock,
                self.config.notify,
                self.registry,
                contracts=[c.id for c in self.config.contracts],
                signin=lambda user, ticket: Links(store, self.config.console, self.clock.now).mint(
                    user, ticket
                ),
                contact_links=lambda purpose, contact, ticket: Links(
                    store, self.config.console, self.clock.now
                ).mint_for_contact(purpose, contact, ticket),
            )
            self.registry.register(OutboxCollector(notifier, self.clock.now))
            escalator = Escalator(store, self.clock, lambda: desk.messages, self.registry)
            digests = DigestTask(
                store, self.clock, lambda: desk.messages, lambda: self.config.notify.digest
            )
            self._serve_metrics(stack)
            # Stopped before the store closes (the stack unwinds in reverse), within ~2 s.
            gap = GapReplay(
                store, self.clock, lambda: self.config, fleet.tracker, desk, lambda: desk.messages
            )
            centre = self._centre = PollerCentre(
                store, self.clock, lambda: self.config, fleet.tracker, desk, silence.heard_again,
                gap,
            )  # fmt: skip
            self.registry.register(PollerCollector(
                lambda: silence.pollers, lambda: centre.dropped, lambda: centre.oldest,
                centre.commands, self.clock.now,
            ))  # fmt: skip
            if self.config.api.enabled or self.config.console.enabled:
                # Imported only when served: FastAPI, the routes and the console are ~20 MB
                # of a daemon that, by default, serves neither.
                from monitord.api import serve_api
                from monitord.sites.routes import poller_router

                links = [poller_router(store, self.clock, centre)]
                host = Host(
                    self.config_path,
                    lambda name, job: self.supervisor.once(name, job),
                    partial(self.reload_now, store, fleet, scheduler),
                )
                self.api_port = await serve_api(
                    stack, store, lambda: self.config, self.clock, links, self.api_socket, host
                )
            scheduler.set_devices(fleet.intervals())

            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
                stack.callback(loop.remove_signal_handler, sig)
            loop.add_signal_handler(signal.SIGHUP, self._reload_soon, store, fleet, scheduler)
            stack.callback(loop.remove_signal_handler, signal.SIGHUP)
            # Who to SIGHUP after `discover --apply` rewrote an include (discovery/apply.py).
            pid_file = self.config.state_dir / "monitord.pid"
            with contextlib.suppress(OSError):
                pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
                stack.callback(pid_file.unlink, missing_ok=True)

            # Every task from here on is owned by the supervisor (one TaskGroup); it leaves
            # before the API, /metrics and the store close (the stack unwinds in reverse).
            settled(collect=True)  # the fleet out of the collector's walks (config/bulk.py)
            stack.callback(unsettled)
            sup = await stack.enter_async_context(self.supervisor)
            ha = self.config.centre.ha
            lead = Leadership(store, self.clock, ha, self.registry) if ha.enabled else None
            # HA off: a single daemon is its own leader and nothing is gated or fenced.
            gate = lead.gated if lead is not None else _ungated
            if lead is not None:  # tried once first, so a lone centre starts leading at once
                sup.periodic("centre-lease", lead.step, await lead.step(), critical=True)
                centre.leader = lambda: lead.token  # pollers' journals: the leader applies them
            sup.periodic("recorder", recorder.step, critical=True)
            sup.service("scheduler", scheduler.run, critical=True)
            for name, watch in self._watches.items():
                sup.service(name, watch.run)
            sup.periodic("sla-clocks", gate(desk.clocks_step), critical=True)
            sup.periodic("notify", gate(notifier.step), critical=True)
            sup.periodic("escalation", gate(escalator.step))
            sup.periodic("digest", gate(digests.step))
            sup.periodic("inspections", gate(upkeep.step))
            settings = self.config.history
            every = settings.flush_every
            sup.periodic("history", partial(history.step, self.clock, every), first_after=every)
            every = settings.evaluate_every
            warn = gate(partial(warnings.step, every))
            sup.periodic("warnings", warn, first_after=min(every, 60.0))
            # With the pushes (PollerCentre.leader): the leader's tracker sees its pollers.
            sup.periodic("poller-silence", gate(silence.step))
            sup.periodic("mac-tables", gate(tables.step), first_after=60.0)  # after first checks
            # Not gated: held faults are this node's own check results, like the checks.
            sup.periodic("windows", partial(windows_step, desk, fleet.tracker, windows, self.clock))
            sup.periodic("heap-trim", heap.step, first_after=60.0)  # once the first checks ran
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
                sup.feed_watchdog(watchdog)  # only while the critical tasks make progress
            sdnotify.notify("READY=1")
            ready()
            await self._stop.wait()
            sdnotify.notify("STOPPING=1")
            _log.info("stopping")
            await sup.cancel("scheduler", *self._watches)
            await self._stop_watches()
            # A send cut short stays claimed; its lease runs out and the next start repeats it.
            await sup.cancel("sla-clocks", "notify", "escalation", "digest", "inspections")
            await sup.cancel("history", "warnings", "windows", "mac-tables")
            if lead is not None:
                await sup.cancel("centre-lease")
                await lead.release()  # the singleton work has stopped: a standby may go on
            await self._flush_history(history)
            if self._reloading is not None:
                await asyncio.gather(self._reloading, return_exceptions=True)
            await sup.cancel("recorder")
            await recorder.flush_checks()  # the last-check times of the final minutes
            await sup.cancel_all()
        _log.info("stopped")

    async def _open_watch(self, kind: WatchKind, config: Config) -> Watch | None:
        """Open a protocol's watch if it is wanted and not open yet (ONVIF waits for its
        first configured device, so a reload may open it)."""
        if kind.name in self._watches or self._deps is None or not kind.wanted(config):
            return None
        watch = self._watches[kind.name] = await kind.open(replace(self._deps, config=config))
        return watch

    async def _stop_watches(self) -> None:
        watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            await watch.stop()

    async def _flush_history(self, history: HistoryRecorder) -> None:
        try:
            await asyncio.to_thread(history.flush, self.clock.now())
        except StoreError as exc:
            _log.error("metric history of the last minutes not recorded", error=str(exc))

    def _serve_metrics(self, stack: AsyncExitStack) -> None:
        settings = self.config.metrics
        server, thread = exposition.serve(settings.listen, settings.port, self.registry)
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
            self._reloading = self.supervisor.once("reload", self._reload(store, fleet, scheduler))

    async def reload_now(self, store: Store, fleet: Fleet, scheduler: Scheduler) -> bool:
        """The SIGHUP path, awaited (the console's discovery apply); whether it took. A
        reload already under way may have read the files before they changed: one more."""
        while self._reloading is not None and not self._reloading.done():
            await asyncio.wait({self._reloading})  # not cancelled with the caller
        self._reload_soon(store, fleet, scheduler)
        assert self._reloading is not None
        await asyncio.wait({self._reloading})
        return self._reload_ok

    async def _reload(self, store: Store, fleet: Fleet, scheduler: Scheduler) -> None:
        # The collector waits until the new objects are settled: the archive's records and
        # the prepared fleet (~100 000 objects) made it walk them on the loop's thread, a
        # 50 ms stall during the reload (bench/reload.py).
        with collector_paused(), loop_first():
            await self._reload_paused(store, fleet, scheduler)

    async def _reload_paused(self, store: Store, fleet: Fleet, scheduler: Scheduler) -> None:
        _log.info("reloading configuration", path=str(self.config_path))
        try:
            config = await load_apart(self.config_path)
        except Exception as exc:  # noqa: BLE001 - any failure to load is a rejected file
            self.metrics.reloads.labels("failure").inc()
            self.metrics.last_reload_ok.set(0)
            self._reload_ok = False
            _log.error(
                "configuration rejected; the running one stays",
                errors=[str(issue) for issue in exc.issues]
                if isinstance(exc, ConfigError)
                else [f"{type(exc).__name__}: {exc}"],
            )
            return
        if config.database_url != self.config.database_url:
            _log.warning("database setting changed; it takes effect at the next restart")
        if config.centre != self.config.centre:
            _log.warning("centre HA setting changed; it takes effect at the next restart")
        await self._sync_archive(store, config, since=self.config)
        prepared = await asyncio.to_thread(fleet.prepare, config)
        # One step with no await in it: the fleet, its scheduler and everyone that reads the
        # configuration switch together, so no check sees half of each.
        fleet.apply(config, prepared)
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
        if self._tables is not None:
            self._tables.apply(config)
        scheduler.set_devices(fleet.intervals())
        self.config = config
        # Each watch keeps its own devices and scheduler: one per turn of the loop, so that
        # together they do not hold it (~50 ms each at 10 000 devices, bench/reload.py).
        for kind in WATCHES:
            await asyncio.sleep(0)
            running = self._watches.get(kind.name)
            if running is not None:
                running.apply(config)
            elif (opened := await self._open_watch(kind, config)) is not None:
                self.supervisor.service(kind.name, opened.run)
        if self._centre is not None:
            self._centre.config_changed()  # long-polling site pollers get it now
        self.metrics.reloads.labels("success").inc()
        self.metrics.last_reload_ok.set(1)
        self._reload_ok = True
        settled()

    async def _sync_archive(
        self, store: Store, config: Config, since: Config | None = None
    ) -> None:
        """`since`: what the archive was synced with last (a reload): only what changed
        from it is read and written. At start the whole archive is compared (another
        version of the configuration may have run meanwhile)."""
        now = self.clock.now()

        def sync() -> InventoryDiff:  # 10 000 records built off the loop too
            if since is None:
                records = [device_record(d) for d in config.devices]
                return store.devices.sync(site_records(config), records, now)
            changed, gone = changed_records(since, config)
            return store.devices.sync(site_records(config), changed, now, among=gone)

        diff = await asyncio.to_thread(sync)
        if diff.added or diff.changed or diff.removed:
            _log.info(
                "equipment archive updated",
                added=list(diff.added),
                changed=list(diff.changed),
                removed=list(diff.removed),
            )
