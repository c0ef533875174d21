"""Build a large configuration without the cyclic garbage collector running meanwhile.

Parsing 10 000 devices allocates ~1 M objects that all stay alive (nodes, then dicts, then
models). Each allocation burst makes the collector walk the whole growing heap again, which
cost more than the parsing itself: libyaml's compose of the fleet file took 3.1 s with the
collector on and 0.8 s with it off (bench/config_scale.py). Nothing built here is a cycle
that needs collecting, so the collector is paused while it is built and resumed after.

Once built, the same ~1 M objects live as long as the configuration does, and every full
collection walked them all again: a 0.4 s stall of the daemon's event loop every few
seconds at 10 000 devices (bench/reload.py). `settled()` moves what is alive now out of the
collector's sight (gc.freeze), after start-up and after each reload.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settled(collect: bool = False) -> None:
    """The objects alive now stay alive: the cyclic collector stops walking them.

    `collect` first at start-up only: during a reload that would be the very stall this
    avoids (freezing is constant time). A frozen object that later becomes garbage is
    still freed by its reference count; only cyclic garbage frozen with it stays until
    `unsettled()` (the daemon's exit: an in-process daemon, as in tests, leaves nothing)."""
    if collect:
        gc.collect()
    gc.freeze()


def unsettled() -> None:
    gc.unfreeze()
