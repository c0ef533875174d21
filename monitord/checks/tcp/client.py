"""TCP port check: does the device accept a connection on this port? (Nothing is sent.)"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PortCheck:
    port: int
    open: bool
    reason: str  # "open" | "refused" | "timeout" | "unreachable" | "error"
    detail: str
    seconds: float


async def check_port(address: str, port: int, within: float) -> PortCheck:
    started = time.monotonic()

    def done(is_open: bool, reason: str, detail: str) -> PortCheck:
        return PortCheck(port, is_open, reason, detail, time.monotonic() - started)

    try:
        async with asyncio.timeout(within):
            _reader, writer = await asyncio.open_connection(address, port)
    except TimeoutError:
        return done(False, "timeout", f"no answer to a connection within {within:g} s")
    except ConnectionRefusedError:
        return done(False, "refused", "connection refused")
    except OSError as exc:
        unreachable = exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH)
        return done(False, "unreachable" if unreachable else "error", exc.strerror or str(exc))
    writer.close()
    # The port answered; how the peer takes our leaving is its business.
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    return done(True, "open", "connection accepted")
