"""A progress bar for slow terminal work (a CSV import of thousands of rows, a monthly report
at fleet size, `db upgrade` of a big store): rich's, on stderr, so stdout stays the output.
Nothing is drawn when stderr is no terminal (scripts, pipes, systemd)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Protocol


class Step(Protocol):
    def __call__(self, done: int, total: int | None = None, what: str | None = None) -> None:
        """`done` of `total` so far; `what` renames the bar (the stage now under way)."""


def _silent(done: int, total: int | None = None, what: str | None = None) -> None:
    pass


@contextlib.contextmanager
def shown(label: str, total: int | None = None) -> Iterator[Step]:
    """A bar labelled `label` while the block runs; `total` 0: nothing to do, nothing drawn."""
    if total == 0 or not sys.stderr.isatty():
        yield _silent
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), refresh_per_second=8) as bar:
        task = bar.add_task(label, total=total)

        def step(done: int, total: int | None = None, what: str | None = None) -> None:
            bar.update(task, completed=done, total=total, description=what)  # None: unchanged

        yield step
