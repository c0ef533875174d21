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

While a reload works in a thread (it built the whole configuration there; now a child
process does, config/offload.py, and threads unpickle, sync and prepare it), the event loop
competes with it for the GIL. Each time the loop releases the GIL for a system call (every
echo sent, every epoll), the thread takes it back and keeps it for the switch interval
(5 ms), so a loop making hundreds of calls waited a whole second: the longest stall of a
10 000-device reload was 0.7-1.6 s, though the loop's own work in it was under 0.15 s
(bench/reload.py). `loop_first()` shortens the interval while the reload runs.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

_RELOAD_SWITCH_INTERVAL: Final = 0.001  # seconds; CPython's default is 0.005


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def loop_first() -> Iterator[None]:
    """A thread that holds the GIL gives it up after 1 ms instead of 5 ms meanwhile."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, _RELOAD_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


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
