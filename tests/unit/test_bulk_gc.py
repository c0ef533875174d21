"""The daemon's objects are kept out of the collector's walks while it runs, and given back
when it stops (config/bulk.py)."""

from __future__ import annotations

import gc
import sys

import pytest

from monitord.config.bulk import collector_paused, loop_first, settled, unsettled


def test_settled_freezes_what_is_alive_and_unsettled_gives_it_back() -> None:
    kept = [{"device": n} for n in range(1000)]
    try:
        settled(collect=True)
        assert gc.get_freeze_count() >= len(kept)
    finally:
        unsettled()
    assert gc.get_freeze_count() == 0


def test_collector_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            pass
        assert not gc.isenabled()  # the inner one does not resume it early
    assert gc.isenabled()


def test_loop_first_shortens_the_switch_interval_and_restores_it() -> None:
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError), loop_first():
        assert sys.getswitchinterval() == pytest.approx(0.001)
        raise RuntimeError("a reload that failed")
    assert sys.getswitchinterval() == before
