"""The poller's identity at rest: its credential, its centres and their pinned certificates.

`credential.json` (0600) and `pins.pem` live in the poller's state directory. Enrolment
replaces them and starts a new journal, since the centre starts the new credential's
sequence at 1.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from monitord.sites.link import fetch_certificate, pinned_context
from monitord.sites.wire import PREFIX, EnrolIn, EnrolOut

CREDENTIAL, PINS, JOURNAL, CONFIG = "credential.json", "pins.pem", "journal.db", "config.json"
SECRETS = "secrets"  # a 0700 folder: one 0600 file per secret the centre sent


class EnrolFailed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Identity:
    poller: str
    sites: tuple[str, ...]
    token: str
    centres: tuple[str, ...]
    fingerprints: tuple[str, ...]

    def __repr__(self) -> str:  # never the token
        return f"Identity(poller={self.poller!r}, sites={self.sites!r}, centres={self.centres!r})"

    @classmethod
    def load(cls, state_dir: Path) -> Identity:
        raw = json.loads((state_dir / CREDENTIAL).read_text())
        return cls(
            raw["poller"], tuple(raw["sites"]), raw["token"], tuple(raw["centres"]),
            tuple(raw["fingerprints"]),
        )  # fmt: skip


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically (never a moment at 0644)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def enrol(centres: list[str], code: str, state_dir: Path, expect: str | None) -> Identity:
    """Pin every centre's certificate, spend the code at the first that answers."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pems, prints, unread = [], [], []
    for url in centres:
        try:
            pem, fp = fetch_certificate(url)
        except ValueError as exc:
            raise EnrolFailed(str(exc)) from None
        except OSError as exc:  # a centre down today: trusted if it shows a pinned certificate
            unread.append(f"{url}: cannot read its certificate: {exc}")
            continue
        if fp not in prints:
            pems.append(pem)
            prints.append(fp)
    if not pems:
        raise EnrolFailed("; ".join(unread))
    if expect is not None and expect.lower() not in prints:
        raise EnrolFailed(f"no centre presents the certificate {expect}; got {', '.join(prints)}")
    write_private(state_dir / PINS, "".join(pems))
    body = EnrolIn(code=code).model_dump_json()
    answer: EnrolOut | None = None
    last = ""
    with httpx.Client(verify=pinned_context(state_dir / PINS), timeout=15) as client:
        for url in centres:
            try:
                r = client.post(
                    url.rstrip("/") + PREFIX + "/enrol",
                    content=body,
                    headers={"content-type": "application/json"},
                )
            except httpx.TransportError as exc:
                last = f"{url}: {type(exc).__name__}"
                continue
            if r.status_code != 200:
                raise EnrolFailed(f"{url}: refused ({r.status_code}): {r.json().get('detail')}")
            answer = EnrolOut.model_validate_json(r.content)
            break
    if answer is None:
        raise EnrolFailed(f"no centre answered ({last})")
    identity = Identity(answer.poller, answer.sites, answer.token, tuple(centres), tuple(prints))
    write_private(state_dir / CREDENTIAL, json.dumps(asdict(identity)))
    for stale in (JOURNAL, JOURNAL + "-wal", JOURNAL + "-shm", CONFIG):
        (state_dir / stale).unlink(missing_ok=True)  # the new credential's journal starts at 1
    shutil.rmtree(state_dir / SECRETS, ignore_errors=True)  # the old configuration's
    return identity
