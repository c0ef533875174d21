"""Waiting for worker threads in tests: bounded polling on real time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool]) -> None:
    """Poll for up to 10 s of real time (worker threads); the fake clock stays put."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")
