"""The second witness of a silent site: its public address, pinged by the centre.

A poller that stops reporting is either cut off (the site's line, its router) or dead (the
box, its power supply, its disk). The centre cannot tell from the silence alone, and the
two send different people: the ISP's fault desk, or an engineer with a spare box. With
`sites[].poller_witness` (the address the site's router answers pings on, from outside),
the centre pings it when the silence begins: no answer, the line is down; an answer, the
line is up and the poller box is what failed (Icinga #8491: satellites that died while
everything stayed green).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum

from monitord import log
from monitord.checks.icmp.client import IcmpMode, IcmpUnavailable, Pinger

_log = log.get("monitord.sites")
ECHOES, TIMEOUT = 3, 1.0  # a look: three echoes, any answer within a second counts

# Whether the address answers; None when the centre cannot ping at all (no ICMP socket).
Look = Callable[[str], Awaitable[bool | None]]


class Verdict(StrEnum):
    LINE_DOWN = "line_down"  # the witness does not answer either
    POLLER_DOWN = "poller_down"  # the witness answers: the line is up, the poller is not


def verdict(answers: bool | None) -> Verdict | None:
    if answers is None:
        return None
    return Verdict.POLLER_DOWN if answers else Verdict.LINE_DOWN


def pinging(mode: IcmpMode | None) -> Look:
    """A look that opens an ICMP socket for its three echoes (a silence is rare: nothing
    is held open for it)."""

    async def look(address: str) -> bool | None:
        try:
            async with await Pinger.open(mode) as pinger:
                result = await pinger.ping(address, count=ECHOES, timeout=TIMEOUT)
        except IcmpUnavailable as exc:
            _log.warning("cannot ping a site's witness", address=address, error=str(exc))
            return None
        if result.error:
            _log.warning("cannot ping a site's witness", address=address, error=result.error)
        return result.alive

    return look
