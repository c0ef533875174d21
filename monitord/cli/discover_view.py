"""A discovery run's live progress on a terminal (rich: a well-kept live display that
redraws in place and leaves a clean final line; nothing is drawn when stderr is no TTY)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from monitord.discovery.run import Status
from monitord.present import i18n

if TYPE_CHECKING:
    from rich.table import Table


class _View:
    """A rich renderable read afresh at every refresh, so the run only bumps counters."""

    def __init__(self, status: Status, lang: str) -> None:
        self.status, self.lang = status, lang

    def __rich__(self) -> Table:
        from rich.table import Table

        s, t = self.status, self.lang
        table = Table.grid(padding=(0, 2))
        table.add_row(i18n.t("disc_ranges", t), s.ranges)
        table.add_row(i18n.t("disc_stage", t), s.stage)
        table.add_row(i18n.t("disc_probed", t), f"{s.probed} / {s.addresses}")
        table.add_row(i18n.t("disc_found", t), str(s.found))
        table.add_row(i18n.t("disc_walked", t), str(s.walked))
        return table


@contextlib.contextmanager
def live(status: Status, lang: str, quiet: bool) -> Iterator[None]:
    if quiet or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.live import Live

    with Live(_View(status, lang), console=Console(stderr=True), refresh_per_second=4):
        yield
