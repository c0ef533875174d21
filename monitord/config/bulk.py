"""Build a large configuration without the cyclic garbage collector running meanwhile.

Parsing 10 000 devices allocates ~1 M objects that all stay alive (nodes, then dicts, then
models). Each allocation burst makes the collector walk the whole growing heap again, which
cost more than the parsing itself: libyaml's compose of the fleet file took 3.1 s with the
collector on and 0.8 s with it off (bench/config_scale.py). Nothing built here is a cycle
that needs collecting, so the collector is paused while it is built and resumed after.
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
