"""`discover --apply`: the reviewed change set into `devices.d/<site>.yaml`, atomically.

What people typed wins: an id, a name, a location or any archive field already in the file
is never rewritten; a discovered fact (vendor, model, serial, MAC) only fills a gap. The
change set's own updates are what it proposes and the reviewer accepted: a new address
(DHCP), new firmware, a parent the topology proved. A device configured in another file
cannot be edited here: it is reported, not duplicated.

The file is written to a temporary file in the same directory, fsynced, renamed over the
old one and the directory fsynced: a crash leaves the old file or the new, never half. The
whole configuration is then loaded; if it does not pass, the old file comes back.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from monitord.config.load import ConfigError, load
from monitord.discovery.propose import Item

PID_FILE: Final = "monitord.pid"  # written by app.py while the daemon runs
HEADER: Final = "# Written by `monitord discover --apply`; edits are kept on the next apply.\n"
FILLS: Final = ("vendor", "model", "serial", "mac")  # discovered facts: gaps only
UPDATES: Final = {
    "address": ("address",), "firmware": ("firmware",), "parent": ("parents",),
    "parent_wrong": ("parents",), "parent_found": ("parents",), "facts": (),
}  # fmt: skip


class ApplyError(Exception):
    """The result would not be a valid configuration, or the file is not included."""


@dataclass(slots=True)
class Applied:
    path: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # configured in another file


def target(config_path: Path, site: str) -> Path:
    return config_path.parent / "devices.d" / f"{site}.yaml"


def included(config_path: Path, path: Path) -> bool:
    """Whether the configuration's `include` patterns take in `path` (existing or not)."""
    data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    patterns = (data.get("include") or []) if isinstance(data, dict) else []
    relative = path.relative_to(config_path.parent)
    return any(
        path.match(str(p)) if Path(str(p)).is_absolute() else relative.match(str(p))
        for p in patterns
    )


def reload_daemon(state_dir: Path) -> int | None:
    """SIGHUP the running daemon (its pid file in the state directory, checked to be a
    monitord process so a recycled pid is never signalled); its pid, or None."""
    try:
        pid = int((state_dir / PID_FILE).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    args = cmdline.split(b"\0")
    if pid == os.getpid() or b"run" not in args or not any(b"monitord" in a for a in args):
        return None  # a stale file naming some other process: never signal it
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError:
        return None
    return pid


def merge(existing: list[dict[str, Any]], items: Sequence[Item], known: set[str]) -> Applied:
    """Fold `items` into `existing` (records of the site file) in place."""
    out = Applied(Path())
    by_id = {str(d.get("id")): d for d in existing if isinstance(d, dict)}
    for i in items:
        record = by_id.get(i.device)
        if i.change == "new" and i.record:
            if record is None and i.device not in known:
                existing.append(dict(i.record))
                by_id[i.device] = existing[-1]
                out.added.append(i.device)
            elif record is not None:
                _fill(record, i.record)
            continue
        if i.change == "facts" and record is not None:
            _fill(record, i.record)
            out.updated.append(i.device)
            continue
        keys = UPDATES.get(i.change)
        if keys is None or not i.record:
            continue  # moved / missing: findings for people, nothing to write
        if record is None:
            out.elsewhere.append(i.device)
            continue
        for key in keys:
            if key in i.record:
                record[key] = i.record[key]
        out.updated.append(i.device)
    return out


def _fill(record: dict[str, Any], facts: dict[str, object]) -> None:
    for key in FILLS:
        if not record.get(key) and facts.get(key):
            record[key] = facts[key]


def apply(config_path: Path, site: str, items: Sequence[Item], known: set[str]) -> Applied:
    """Write the site file; `known`: device ids configured anywhere (the loaded config)."""
    path = target(config_path, site)
    if not included(config_path, path):
        raise ApplyError(f"{path}: not matched by the configuration's 'include'")
    old = path.read_bytes() if path.exists() else None
    doc = (yaml.safe_load(old) if old else None) or {}
    devices = list(doc.get("devices") or []) if isinstance(doc, dict) else []
    mine = {str(d.get("id")) for d in devices if isinstance(d, dict)}
    result = merge(devices, items, known - mine)
    result.path = path
    if not result.added and not result.updated:
        return result  # nothing to write: the file (and its mtime) stay as they are
    doc = {**(doc if isinstance(doc, dict) else {}), "devices": devices}
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    write_atomic(path, (HEADER + body).encode())
    try:
        load(config_path)
    except ConfigError as exc:
        if old is None:
            path.unlink()
        else:
            write_atomic(path, old)
        raise ApplyError("; ".join(str(i) for i in exc.issues[:5])) from None
    return result


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # Keep the old file's mode; a new one is readable by the daemon's user (no secrets:
        # configuration holds only references to them).
        tmp.chmod(path.stat().st_mode & 0o777 if path.exists() else 0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dirfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)
