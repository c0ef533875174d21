"""Enrolment at the centre: one-time codes, poller credentials, and what a poller may see.

A code is 80 random bits written as four groups of base32 (easy to read over a phone); it is
valid 24 h and spent by one enrolment. The credential it buys is 256 random bits. Only
their SHA-256 reaches the database (store/pollers.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from typing import Any

from monitord.config import Config

CODE_VALID = dt.timedelta(hours=24)
_DEVICE = {"id", "name", "kind", "address", "site", "criticality", "icmp"}


def new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normal_code(code: str) -> str:
    """As typed: case and separators do not matter."""
    plain = code.replace("-", "").replace(" ", "").upper()
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def poller_config(config: Config, sites: tuple[str, ...]) -> dict[str, Any]:
    """The part of the configuration a poller needs: its sites, polled by itself, their
    devices (ICMP settings only in this version: no secrets leave the centre) and the
    confirmation settings, so SOFT->HARD is judged at the site as it is here."""
    own = set(sites)
    mine = [d for d in config.devices if d.site in own]
    ids = {d.id for d in mine}
    return {
        "sites": [
            {**s.model_dump(mode="json", include={"id", "name", "timezone"}), "poller": "local"}
            for s in config.sites
            if s.id in own
        ],
        "devices": [
            # A parent on another poller's site is not this poller's to judge.
            {
                **d.model_dump(mode="json", include=_DEVICE, exclude_none=True),
                "parents": [p for p in d.parents if p in ids],
            }
            for d in mine
        ],
        "icmp": config.icmp.model_dump(mode="json", exclude_none=True),
        "flapping": config.flapping.model_dump(mode="json"),
        "probe_defaults": {
            k.value: v.model_dump(mode="json", exclude_none=True)
            for k, v in config.probe_defaults.items()
        },
    }


def revision(projected: dict[str, Any]) -> str:
    text = json.dumps(projected, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
