"""A validated copy of the configuration, so that a command that only reads tickets does not
parse and validate 10 000 devices of YAML each time (4-8 s at fleet size, issue 15).

The snapshot is a JSON file in the user's own cache directory (nothing is shared between
users: a snapshot written by the daemon's account is never read by root, and the reverse),
keyed by the configuration file's absolute path. It holds the list of files it was made from
with their size, mtime and inode, and the include patterns with what they matched: any
difference (an edit, a new file matching a pattern, another monitord version) makes it stale,
and the configuration is loaded and validated in full again. Secrets are references
({env: ...}, {file: ...}) in the configuration, so the snapshot holds none; it is 0600 anyway.

Three parts: the sources (a line), the configuration without its devices (a line), the
devices (a JSON list, one device per line). Most commands need no device from the
configuration (they read the store), and validating 10 000 devices again is most of a
snapshot read: `devices=False` skips that part, and a collection of ids parses and validates
only the lines of those devices (`ticket show` needs its one device's warranty). Where the
file lives and whether it is fresh is snapfile.py's, so that a command that needs no
`Config` at all can read the plain JSON without importing pydantic.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from monitord.config.bulk import collector_paused
from monitord.config.load import load
from monitord.config.models import Config, Device
from monitord.config.snapfile import DAMAGED, cache_dir, fresh, head, is_fresh, where

__all__ = ["cache_dir", "load_cached"]

# Which devices a caller needs: all of them, none, or those with these ids.
Wanted = bool | Collection[str]

_DEVICES = TypeAdapter(tuple[Device, ...])
_DEVICE = TypeAdapter(Device)


def load_cached(file: Path, full: bool = False, devices: Wanted = True) -> Config:
    """The configuration of `file`: from a fresh snapshot, or loaded in full (and snapshotted).

    `full`: validate from the files even when the snapshot is fresh (`monitord check`).
    `devices`: from a snapshot, only these devices are read (False: none, so `devices` is
    empty); a full load returns them all."""
    path = where(file)
    if path is not None and not full:
        cached = _read(path, devices)
        if cached is not None:
            return cached
    # A fresh snapshot is what this load would write again (the same files, the same
    # monitord): a `check` that changed nothing rewrites nothing (0.1 s at fleet size).
    unchanged = full and path is not None and is_fresh(path)
    config = load(file)
    if path is not None and not unchanged:
        _write(path, file, config)
    return config


def _read(path: Path, devices: Wanted) -> Config | None:
    try:
        with path.open("rb") as f:
            if fresh(f.readline()) is None:
                return None
            with collector_paused():
                config = Config.model_validate_json(f.readline())
                if devices is False:
                    return config
                rest = f.read()
                if devices is True:
                    listed = _DEVICES.validate_json(rest)
                else:
                    listed = _DEVICES.validate_python(_lines_of(rest, set(devices)))
                return config.model_copy(update={"devices": listed})
    except DAMAGED:
        return None  # missing, stale or damaged: load in full


def _lines_of(devices: bytes, wanted: set[str]) -> list[Any]:
    """Those of the wanted devices that are there, in the configuration's order, parsed
    from their own lines only (parsing the whole list to pick one took 0.16 s at 10 000
    devices). A line is one whole device: compact JSON has no newline. An id (`Identifier`)
    has no character JSON escapes, so its key is written as it is searched for."""
    found: list[tuple[int, Any]] = []
    for device_id in wanted:
        key = b'"id":' + json.dumps(device_id, ensure_ascii=False).encode()
        at = devices.find(key)
        while at >= 0:
            start, end = devices.rfind(b"\n", 0, at) + 1, devices.find(b"\n", at)
            end = len(devices) if end < 0 else end
            device = json.loads(devices[start:end].rstrip(b","))
            if device.get("id") == device_id:
                found.append((start, device))
                break
            at = devices.find(key, end)  # the key inside another device's line
    return [device for _, device in sorted(found, key=lambda f: f[0])]


def _write(path: Path, file: Path, config: Config) -> None:
    try:
        first = json.dumps(head(file, list(config.include), config.database_url))
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(first + "\n")
            f.write(config.model_dump_json(by_alias=True, exclude={"devices"}) + "\n")
            # A device at a time, each on its own line: the whole list at once was a ~30 MB
            # string at 10 000 devices, a peak the daemon (which writes this at start) then
            # kept as resident memory; and a line is what `_lines_of` finds a device by.
            f.write("[")
            for n, device in enumerate(config.devices):
                f.write(
                    ("," if n else "") + "\n" + _DEVICE.dump_json(device, by_alias=True).decode()
                )
            f.write("\n]")
        temporary.replace(path)
    except OSError:
        pass  # a read-only home or a full disk only costs the next command a full load
