"""Freed heap memory handed back to the system now and then (glibc's malloc_trim).

glibc keeps memory that was freed inside its heaps for reuse and returns only the top of
the main heap by itself. A daemon whose start-up and ONVIF/SNMP answers briefly allocate
much more than it keeps holds the difference as resident memory: at 10 000 devices,
malloc_trim(0) gave back ~10 MB of 229 MB (bench/fleet.py, a diagnostic run). Elsewhere
(musl, macOS) there is nothing to call and the step only waits.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Final

EVERY: Final = 300.0  # seconds; a trim walks the heaps, a few ms at fleet size


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        function = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    function.argtypes, function.restype = [ctypes.c_size_t], ctypes.c_int
    return function


_TRIM: Final = _malloc_trim()


def trim() -> bool | None:
    """Hand back what can be; True if memory was released, None where it cannot be."""
    return None if _TRIM is None else _TRIM(0) == 1


async def step() -> float:
    # Off the loop: the trim holds each heap's lock while it walks it.
    await asyncio.to_thread(trim)
    return EVERY
