"""Freed heap memory goes back to the system when glibc can give it."""

from __future__ import annotations

import asyncio
import platform
from pathlib import Path

import pytest

from monitord.memory import heap


def _anon_kb() -> int:
    status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("RssAnon:"))


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_memory_freed_inside_the_heap_is_handed_back() -> None:
    # 4 kB blocks come from malloc's heap (Python's own allocator takes <= 512 B); keeping
    # every 64th leaves holes that glibc does not return by itself, only a trim does.
    blocks = [bytearray(4000) for _ in range(40_000)]  # ~160 MB
    kept = blocks[::64]
    del blocks
    before = _anon_kb()
    assert heap.trim() is True
    assert _anon_kb() < before - 50_000  # most of the holes' pages are back
    assert len(kept) == 625


def test_the_step_comes_back_after_its_interval() -> None:
    assert asyncio.run(heap.step()) == heap.EVERY
