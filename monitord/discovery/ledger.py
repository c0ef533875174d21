"""Who applied which discovered changes, and when: one JSON line per apply in the state
directory (`discovery-applied.jsonl`), appended and fsynced.

A file rather than a table: the inventory it explains is a file too (devices.d/), and an
administrator reads both with the same tools; the console logs the same entry too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from monitord.discovery.apply import Applied
from monitord.discovery.propose import Item

FILE: Final = "discovery-applied.jsonl"


def record(
    state_dir: Path, site: str, items: Sequence[Item], done: Applied,
    principal: Mapping[str, str], at: dt.datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Append the entry (when the apply wrote something); returns it, for the caller's log
    (the daemon's journal; the CLI keeps its stdout for the change set)."""
    entry: dict[str, Any] = {
        "at": (at or dt.datetime.now(dt.UTC)).isoformat(), "site": site, **principal,
        "file": str(done.path), "added": done.added, "updated": done.updated,
        "elsewhere": done.elsewhere,
        "changes": [{"change": i.change, "device": i.device, "address": i.address,
                     "detail": i.detail} for i in items],
    }  # fmt: skip
    if not done.added and not done.updated:
        return entry
    state_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    fd = os.open(state_dir / FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def recent(state_dir: Path, site: str, limit: int = 5) -> list[dict[str, Any]]:
    """The site's newest entries first (a damaged line is skipped, never fatal)."""
    try:
        lines = (state_dir / FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("site") == site:
            out.append(entry)
            if len(out) >= limit:
                break
    return out
