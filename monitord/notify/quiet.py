"""Quiet hours: until when a message of a given class waits (pure functions).

A held message is written at once with a later `not_before`, so it is sent when the quiet
period ends and survives restarts meanwhile; nothing is dropped. A and B are never held
(the configuration refuses them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from monitord.config.oncall import QuietHours


def _inside(q: QuietHours, wall: dt.time) -> bool:
    if q.start < q.until:
        return q.start <= wall < q.until
    return wall >= q.start or wall < q.until  # across midnight, 22:00-07:00


def _applies(q: QuietHours, contract: str, site: str, ticket_class: str | None) -> bool:
    if ticket_class not in q.classes:
        return False
    if not q.contracts and not q.sites:
        return True
    return contract in q.contracts or site in q.sites


def held_until(
    quiet: Sequence[QuietHours],
    contract: str,
    site: str,
    site_zone: str,
    ticket_class: str | None,
    at: dt.datetime,
) -> dt.datetime | None:
    """When a message written at `at` may go, or None if it may go now."""
    ends = []
    for q in quiet:
        if not _applies(q, contract, site, ticket_class):
            continue
        local = at.astimezone(ZoneInfo(q.timezone or site_zone))
        wall = local.time().replace(tzinfo=None)
        if not _inside(q, wall):
            continue
        day = local.date() + dt.timedelta(days=1 if wall >= q.until else 0)
        end = dt.datetime.combine(day, q.until, tzinfo=local.tzinfo).astimezone(dt.UTC)
        ends.append(end)
    return max(ends, default=None)


def release(
    quiet: Sequence[QuietHours],
    contract: str,
    site: str,
    site_zone: str,
    ticket_class: str | None,
    at: dt.datetime,
) -> dt.datetime:
    """`at`, or the end of the quiet period it falls in (of overlapping periods, the last)."""
    for _ in range(len(quiet) + 1):
        later = held_until(quiet, contract, site, site_zone, ticket_class, at)
        if later is None:
            break
        at = later
    return at
