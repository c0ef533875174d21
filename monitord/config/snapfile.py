"""The snapshot file of a configuration (snapshot.py writes and validates it): where
it lives, whether it is still fresh, and its plain JSON, all without importing pydantic or
the configuration's models (0.3 s at every command, issue 15).

A command that only reads the store needs the database URL and a few site fields: it gets
them here (`plain`) and never builds a `Config`. The file, line by line: the sources (with
the database URL as the configuration computes it), the configuration without its devices,
the devices. It is stale when any file it came from changed (size, mtime, inode), when an
include pattern matches other files, or when monitord's version or the format differ.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from monitord import __version__

FORMAT = 4
# What reading a missing, stale or damaged snapshot raises: its reader then loads in full.
DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError)


def cache_dir() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or (
        str(Path.home() / ".cache") if os.environ.get("HOME") else ""
    )
    return Path(base) / "monitord" if base else None


def where(file: Path) -> Path | None:
    """The snapshot of configuration `file`, in the user's own cache (None: no cache)."""
    directory = cache_dir()
    if directory is None:
        return None
    key = hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:32]
    return directory / f"config-{key}.json"


def glob_include(base: Path, pattern: str) -> list[Path]:
    """Files matching `pattern`, relative to `base` unless absolute (Path.glob refuses those)."""
    given = Path(pattern)
    if given.is_absolute():
        base, pattern = Path(given.anchor), str(given.relative_to(given.anchor))
    return sorted(path for path in base.glob(pattern) if path.is_file())


def _stamp(path: Path) -> list[object]:
    st = path.stat()
    return [str(path), st.st_size, st.st_mtime_ns, st.st_ino]


def head(file: Path, include: list[str], database_url: str) -> dict[str, object]:
    """The first line: what the snapshot was made from, so a reader can tell it is fresh."""
    included = [glob_include(file.parent, pattern) for pattern in include]
    return {
        "format": FORMAT,
        "version": __version__,
        "files": [_stamp(p) for p in [file, *(p for group in included for p in group)]],
        "include": [[pattern, [str(p) for p in group]] for pattern, group in
                    zip(include, included, strict=True)],
        "database_url": database_url,
    }  # fmt: skip


def fresh(line: bytes) -> dict[str, Any] | None:
    """The head line parsed, if every source it names is unchanged; else None.
    Raises what a damaged line raises (ValueError, KeyError, TypeError, IndexError)."""
    found = json.loads(line)
    files = [Path(stamp[0]) for stamp in found["files"]]
    if found["format"] != FORMAT or found["version"] != __version__:
        return None
    if [_stamp(p) for p in files] != found["files"]:
        return None
    base = files[0].parent
    for pattern, matched in found["include"]:
        if [str(p) for p in glob_include(base, pattern)] != matched:
            return None
    return dict(found)


def is_fresh(path: Path) -> bool:
    """Whether the snapshot at `path` is still what its sources would make."""
    try:
        with path.open("rb") as f:
            return fresh(f.readline()) is not None
    except DAMAGED:
        return False


def plain(file: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A fresh snapshot's head and its configuration without devices, as plain JSON (values
    as pydantic dumped them, by alias); None when there is none or it is stale."""
    path = where(file)
    if path is None:
        return None
    try:
        with path.open("rb") as f:
            found = fresh(f.readline())
            if found is None:
                return None
            config = json.loads(f.readline())
    except DAMAGED:
        return None
    return (found, config) if isinstance(config, dict) else None
