"""The poller's side of the centre's commands (sites/commands.py): run each order beside the
polling, answer it up the same link.

Bounded: at most `PROBES` probes at once and one discovery (a second is refused, not
queued: two sweeps of one site would only halve each other's rate); every order has the
timeout the centre gave it and stops when the centre cancels it. A probe is `monitord
probe`'s look (checks/once.py), the one the console runs at the centre for a local site.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from contextlib import aclosing
from functools import partial
from typing import Any, Final

from monitord import log
from monitord.checks.once import probe
from monitord.checks.seen import seen_of
from monitord.clock import Clock
from monitord.config import Config
from monitord.discovery.plan import PlanError, run_as_data, watched
from monitord.sites.link import Link, LinkDown, LinkRefused
from monitord.sites.wire import Command, Update

_log = log.get("monitord.poller")
PROBES: Final = 4
_REMEMBERED: Final = 512  # order ids kept to refuse a repeat
_SEND_TRIES: Final = 3


class Orders:
    def __init__(self, link: Link, config: Callable[[], Config], clock: Clock) -> None:
        self._link, self._config, self._clock = link, config, clock
        self._running: dict[str, asyncio.Task[None]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._probes = asyncio.Semaphore(PROBES)
        self._discovering: str | None = None
        self.ran: Counter[str] = Counter()  # kind -> orders run here (tests, metrics)

    def take(self, commands: tuple[Command, ...], cancel: tuple[str, ...]) -> None:
        for stop in cancel:
            task = self._running.get(stop)
            if task is not None:
                _log.info("command cancelled by the centre", command=stop)
                task.cancel()
        for c in commands:
            if c.id in self._seen:
                continue
            self._seen[c.id] = None
            while len(self._seen) > _REMEMBERED:
                self._seen.popitem(last=False)
            task = asyncio.create_task(self._run(c), name=f"command-{c.kind}-{c.id}")
            self._running[c.id] = task
            task.add_done_callback(partial(self._done, c.id))

    @property
    def running(self) -> int:
        return len(self._running)

    def _done(self, command_id: str, _: asyncio.Task[None]) -> None:
        self._running.pop(command_id, None)

    async def close(self) -> None:
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _run(self, c: Command) -> None:
        _log.info("command received", command=c.id, kind=c.kind)
        if await self._send(c.id, Update(kind="accepted")):
            return
        try:
            async with asyncio.timeout(c.timeout):
                if c.kind == "probe":
                    data = await self._probe(c.args)
                else:
                    data = await self._discover(c.id, c.args)
        except TimeoutError:
            await self._send(c.id, Update(kind="failed", data={"error": "cmd_timeout"}))
        except _Failed as exc:
            await self._send(c.id, Update(kind="failed", data={"error": str(exc)}))
        except _Stopped:
            _log.info("command stopped: the centre gave up on it", command=c.id)
        except asyncio.CancelledError:
            raise  # the centre or the poller stopped it; the centre already knows or will
        except Exception as exc:  # noqa: BLE001 - whatever broke, the centre hears of it
            _log.error("command failed", command=c.id, error=f"{type(exc).__name__}: {exc}")
            await self._send(c.id, Update(kind="failed", data={"error": "cmd_failed"}))
        else:
            await self._send(c.id, Update(kind="result", data=data))

    async def _probe(self, args: Mapping[str, Any]) -> dict[str, Any]:
        config = self._config()
        device = next((d for d in config.devices if d.id == args.get("device")), None)
        if device is None:
            raise _Failed("cmd_no_device")
        async with self._probes:
            self.ran["probe"] += 1
            report = await probe(config, device)
        return seen_of(report).model_dump(mode="json")

    async def _discover(self, command_id: str, args: Mapping[str, Any]) -> dict[str, Any]:
        if self._discovering is not None:
            raise _Failed("cmd_discovering")
        config = self._config()
        site = str(args.get("site", ""))
        ranges = [str(r) for r in args.get("ranges", [])]
        last = {str(mac): (str(p[0]), str(p[1])) for mac, p in args.get("last", {}).items()}
        self._discovering = command_id
        try:
            self.ran["discover"] += 1
            result: dict[str, Any] = {}
            run = watched(lambda st: run_as_data(config, site, ranges, last, self._clock.now, st))
            async with aclosing(run) as steps:  # leaving early stops the run
                async for step in steps:
                    if "result" in step:
                        result = step["result"]
                    elif await self._send(command_id,
                                          Update(kind="progress", data=step["progress"])):  # fmt: skip
                        raise _Stopped
            return result
        except PlanError as exc:
            raise _Failed(exc.key or "outside_ranges") from None
        finally:
            self._discovering = None

    async def _send(self, command_id: str, update: Update) -> bool:
        """Up to the centre; True when it says the order was cancelled (stop)."""
        for attempt in range(_SEND_TRIES):
            try:
                return (await self._link.answer(command_id, update)).cancelled
            except LinkRefused as exc:
                _log.warning("centre refused a command's answer", command=command_id,
                             error=str(exc))  # fmt: skip
                return True
            except LinkDown as exc:
                if attempt == _SEND_TRIES - 1:
                    _log.warning("command's answer not delivered", command=command_id,
                                 error=str(exc))  # fmt: skip
                    return update.kind == "accepted"  # unheard: the centre gives up on it
                await self._clock.sleep(0.5 * (attempt + 1))
        return True


class _Failed(Exception):
    """An order that cannot be done (its message: an i18n key)."""


class _Stopped(Exception):
    """The centre answered a progress update with "cancelled"."""
