"""The photos an engineer attaches to a ticket's work forms, kept under the state directory.

One folder per ticket (`<state_dir>/photos/<ticket id>/`, mode 0700), random file names (so a
name says nothing and cannot be guessed), a cap per photo and per ticket (console settings).
A photo is accepted by its first bytes, not by the name or type the browser sends: JPEG, PNG
or WebP only, what every phone browser shows in an <img>. The ticket event's data keeps the
references (`photos: [{name, type, bytes}]`); the console serves a photo only if that
ticket's log names it, to a session that may see the ticket (console/work.py).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from monitord.config.models import ConsoleSettings

NAME: Final = re.compile(r"[0-9a-f]{32}\.(jpg|png|webp)")
TYPES: Final = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class PhotoRefused(Exception):
    """A photo the store will not keep; `reason` is a CONSOLE word key, `code` the HTTP code."""

    def __init__(self, reason: str, code: int) -> None:
        super().__init__(reason)
        self.reason, self.code = reason, code


def kind_of(head: bytes) -> str | None:
    """The file extension of an image by its magic bytes, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def referenced(events_data: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The photos a ticket's events name: file name -> media type."""
    out: dict[str, str] = {}
    for data in events_data:
        for ref in data.get("photos") or ():
            name = str(ref.get("name", "")) if isinstance(ref, Mapping) else ""
            if NAME.fullmatch(name):
                out[name] = TYPES[name.rsplit(".", 1)[1]]
    return out


class Photos:
    def __init__(self, state_dir: Path, settings: ConsoleSettings) -> None:
        self.root, self.settings = state_dir / "photos", settings

    def folder(self, ticket_id: int) -> Path:
        return self.root / str(int(ticket_id))

    def check(self, blobs: Sequence[bytes]) -> list[str]:
        """The extension of each photo; PhotoRefused for too many, too large or not an image."""
        if len(blobs) > self.settings.photos_per_form:
            raise PhotoRefused("photo_too_many", 413)
        kinds = []
        for blob in blobs:
            if len(blob) > self.settings.photo_max_bytes:
                raise PhotoRefused("photo_too_large", 413)
            kind = kind_of(blob[:16])
            if kind is None:
                raise PhotoRefused("photo_not_image", 415)
            kinds.append(kind)
        return kinds

    def save(self, ticket_id: int, blobs: Sequence[bytes]) -> list[dict[str, Any]]:
        """Keep the photos (all or none); their references for the event's data."""
        kinds = self.check(blobs)
        if not blobs:
            return []
        folder = self.folder(ticket_id)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        held = sum(p.stat().st_size for p in folder.iterdir() if NAME.fullmatch(p.name))
        if held + sum(map(len, blobs)) > self.settings.ticket_photos_max_bytes:
            raise PhotoRefused("photo_ticket_full", 413)
        refs: list[dict[str, Any]] = []
        try:
            for blob, kind in zip(blobs, kinds, strict=True):
                name = f"{secrets.token_hex(16)}.{kind}"
                partial = folder / f".{name}.part"
                # Written aside and renamed: a crash never leaves half a photo under its name.
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(blob)
                partial.rename(folder / name)
                refs.append({"name": name, "type": TYPES[kind], "bytes": len(blob)})
        except OSError:
            self.discard(ticket_id, refs)
            raise
        return refs

    def discard(self, ticket_id: int, refs: Iterable[Mapping[str, Any]]) -> None:
        """Remove photos saved for an event that was then refused (nothing names them)."""
        for ref in refs:
            name = str(ref.get("name", ""))
            if NAME.fullmatch(name):
                (self.folder(ticket_id) / name).unlink(missing_ok=True)

    def path(self, ticket_id: int, name: str) -> Path | None:
        """The file of a well-formed name, if it is there."""
        if not NAME.fullmatch(name):
            return None
        found = self.folder(ticket_id) / name
        return found if found.is_file() else None
