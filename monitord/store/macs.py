"""MAC -> port history (MacPositionRow): the repository `store.macs`.

Each forwarding-table read is one `observe()`: every sighting refreshes its row (or starts
one), and a MAC whose newest position is another switch or port comes back as a move, in
the same transaction, so two readers never report one move twice or miss it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitord.store.core import Repository, require_aware
from monitord.store.records import MacMove, MacSighting
from monitord.store.schema import MacPositionRow

_CHUNK = 500  # MACs per IN (...) query: well under SQLite's variable limit


class MacPositions(Repository):
    def observe(
        self, site: str, sightings: Iterable[MacSighting], at: dt.datetime
    ) -> list[MacMove]:
        """Record one read of the site's forwarding tables; the MACs that moved since."""
        require_aware(at)
        wanted = {s.mac: s for s in sightings}
        moves: list[MacMove] = []
        with self._session(f"record the MAC positions of {site}", write=True) as s:
            macs = sorted(wanted)
            for i in range(0, len(macs), _CHUNK):
                chunk = macs[i : i + _CHUNK]
                rows = _rows(s, site, chunk)
                for mac in chunk:
                    moves.extend(_observe(s, site, wanted[mac], rows.get(mac, []), at))
        return moves

    def last(self, site: str) -> dict[str, MacSighting]:
        """Each MAC's newest position at the site."""
        with self._session(f"read the MAC positions of {site}") as s:
            newest = (
                select(MacPositionRow.mac, func.max(MacPositionRow.last_seen).label("at"))
                .where(MacPositionRow.site_id == site)
                .group_by(MacPositionRow.mac)
                .subquery()
            )
            query = select(MacPositionRow).join(
                newest,
                (MacPositionRow.mac == newest.c.mac) & (MacPositionRow.last_seen == newest.c.at),
            )
            query = query.where(MacPositionRow.site_id == site)
            return {r.mac: _sighting(r) for r in s.scalars(query)}

    def history(self, site: str, mac: str) -> list[tuple[MacSighting, dt.datetime, dt.datetime]]:
        """Every position of a MAC, oldest sighting first: (where, first seen, last seen)."""
        with self._session(f"read the MAC history of {mac}") as s:
            rows = [
                (_sighting(r), r.first_seen, r.last_seen)
                for r in _rows(s, site, [mac]).get(mac, [])
            ]
        return sorted(rows, key=lambda x: x[1])


def _rows(s: Session, site: str, macs: list[str]) -> dict[str, list[MacPositionRow]]:
    query = select(MacPositionRow).where(
        MacPositionRow.site_id == site, MacPositionRow.mac.in_(macs)
    )
    out: dict[str, list[MacPositionRow]] = {}
    for r in s.scalars(query):
        out.setdefault(r.mac, []).append(r)
    return out


def _observe(
    s: Session, site: str, seen: MacSighting, rows: list[MacPositionRow], at: dt.datetime
) -> list[MacMove]:
    newest = max(rows, key=lambda r: r.last_seen, default=None)
    moved = newest is not None and _sighting(newest).position != seen.position
    moves = [MacMove(_sighting(newest), seen, newest.last_seen)] if moved and newest else []
    key = (seen.switch, seen.port, seen.vlan)
    same = next((r for r in rows if (r.switch, r.port, r.vlan) == key), None)
    if same is None:
        s.add(MacPositionRow(site_id=site, mac=seen.mac, switch=seen.switch, port=seen.port,
                             vlan=seen.vlan, first_seen=at, last_seen=at))  # fmt: skip
    else:
        same.last_seen = max(same.last_seen, at)
    return moves


def _sighting(r: MacPositionRow) -> MacSighting:
    return MacSighting(r.mac, r.switch, r.port, r.vlan)
