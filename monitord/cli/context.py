"""What every command shares: the configuration, the store, the clock and the language, and
the one way a command fails.

A command fails with `fail(message)`: `monitord: MESSAGE` on stderr and exit 1 (the command
could not do it), or exit 2 (`EXIT_USAGE`: the configuration, a file or an argument is
wrong). A bad option value is a `click.BadParameter`, so it reads like click's own checks of
types and ranges (exit 2 with the usage line).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from monitord.present import i18n

if TYPE_CHECKING:
    # Imported where used: `monitord --help` must not pay for SQLAlchemy and pydantic.
    from monitord.clock import Clock
    from monitord.config import Config
    from monitord.store import Store
    from monitord.store.peek import Reader

EXIT_FAILED = 1
EXIT_USAGE = 2
# A ticket's, window's or task's id: 64-bit in the database, so a larger one is a usage
# error (exit 2) here, not an OverflowError traceback from the driver.
ID = click.IntRange(1, 2**63 - 1)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"monitord: {message}", err=True)
    raise click.exceptions.Exit(code)


@dataclass
class Context:
    config_path: Path
    lang: str
    _fresh: tuple[tuple[dict[str, Any], dict[str, Any]] | None] | None = None

    @functools.cached_property
    def clock(self) -> Clock:
        # Made when asked: the clock's module imports asyncio (30 ms), which `check` and
        # the commands that only read need not load.
        from monitord.clock import SystemClock

        return SystemClock()

    def config(self, full: bool = False, devices: bool | Collection[str] = True) -> Config:
        """The configuration, from the validated snapshot when no file changed since
        (config/snapshot.py); `full` validates the files again. `devices`: which devices
        the command needs from the configuration (False: none, `devices` may be empty;
        ids: at least those), so a command that reads the store does not validate 10 000."""
        from monitord.config.snapshot import load_cached

        return self.loaded(lambda: load_cached(self.config_path, full, devices))

    def loaded(self, make: Callable[[], Config]) -> Config:
        """`make()`'s configuration; or its errors on stderr, each `file:line`, and exit 2."""
        from monitord.config import ConfigError

        try:
            return make()
        except ConfigError as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            fail(f"{len(exc.issues)} {i18n.t('errors', self.lang)}", EXIT_USAGE)

    def _plain(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        from monitord.config.snapfile import plain

        if self._fresh is None:
            self._fresh = (plain(self.config_path),)
        return self._fresh[0]

    def reader(self) -> Reader:
        """The store for a command that only reads it: sqlite3 directly when a fresh snapshot
        names a SQLite database already at this monitord's schema (no SQLAlchemy, no
        configuration models: store/peek.py), else the `Store` as for every other command."""
        from monitord.store.peek import StoreReader, open_sqlite

        found = self._plain()
        if found is not None:
            peek = open_sqlite(str(found[0]["database_url"]))
            if peek is not None:
                return peek
        return StoreReader(self.store(self.config(devices=False)))

    def site_places(self) -> dict[str, tuple[str, str]]:
        """Each configured site's time zone and zone, from a fresh snapshot's plain JSON when
        there is one (no `Config` built), else from the configuration."""
        found = self._plain()
        if found is not None:
            sites = found[1].get("sites")
            if isinstance(sites, list):
                return {str(s["id"]): (str(s["timezone"]), str(s["zone"])) for s in sites}
        return {s.id: (s.timezone, s.zone.value) for s in self.config(devices=False).sites}

    def store(self, config: Config) -> Store:
        from monitord.store import Store, StoreError

        try:
            store = Store.open(config.database_url)
            store.upgrade()
        except StoreError as exc:
            fail(str(exc))
        return store

    def now(self) -> dt.datetime:
        return self.clock.now()
