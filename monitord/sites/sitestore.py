"""What the site's watches write to: the journal, in the shape of the centre's store.

SNMP, TCP and ONVIF watches (checks/base.py WATCHES) write a device's operation record
through `health/journal.Journal`, which speaks to `store.states` and `store.facts`. At a
site poller those are this adapter, so the watches run unchanged (one code path) and every
line they write is journaled and shipped, then written by the centre into its own store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from monitord.sites.journal import Journal
from monitord.store.records import OperationEvent


class _Events:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def record_event(self, event: OperationEvent) -> None:
        self._journal.append_event(event)

    def latest_events(self, kind: str) -> dict[str, dt.datetime]:
        return self._journal.latest_events(kind)


class _Facts:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def learn(
        self, device_id: str, source: str, facts: Mapping[str, str], at: dt.datetime
    ) -> dict[str, tuple[str, str]]:
        return self._journal.learn(device_id, source, facts, at)


class SiteStore:
    """`store.states` and `store.facts`, as far as the watches use them."""

    def __init__(self, journal: Journal) -> None:
        self._states, self._facts = _Events(journal), _Facts(journal)

    @property
    def states(self) -> _Events:
        return self._states

    @property
    def facts(self) -> _Facts:
        return self._facts
