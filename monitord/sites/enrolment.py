"""Enrolment at the centre: one-time codes, poller credentials, and what a poller may see.

A code is 80 random bits written as four groups of base32 (easy to read over a phone); it is
valid 24 h and spent by one enrolment. The credential it buys is 256 random bits. Only
their SHA-256 reaches the database (store/pollers.py).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

from monitord import log
from monitord.config import Config, SecretRef, SecretUnavailable
from monitord.config.models import Site

CODE_VALID = dt.timedelta(hours=24)
_DEVICE = {"id", "name", "kind", "address", "site", "criticality", "icmp"}
_WATCHED = {"snmp", "tcp", "onvif"}
_log = log.get("monitord.sites")


def new_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normal_code(code: str) -> str:
    """As typed: case and separators do not matter."""
    plain = code.replace("-", "").replace(" ", "").upper()
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def poller_config(
    config: Config, sites: tuple[str, ...], watches: bool = False, discovery: bool = False
) -> dict[str, Any]:
    """The part of the configuration a poller needs: its sites, polled by itself, their
    devices and the confirmation settings, so SOFT->HARD is judged at the site as it is
    here. With `watches` (wire 1.1) the devices' SNMP, TCP and ONVIF settings and the trap
    receiver's come too, each secret reference resolved into `secrets` (see `_secrets`);
    without, ICMP only and no secret leaves the centre. With `discovery` (wire 1.2) each
    site's `discovery` settings come too, their credentials resolved the same way: a
    discover command runs at the site with them (sites/orders.py)."""
    own = set(sites)
    mine = config.devices_at(own)
    ids = {d.id for d in mine}
    secrets_out: dict[str, str] = {}
    fields = _DEVICE | _WATCHED if watches else _DEVICE
    devices = []
    for d in mine:
        # A parent on another poller's site is not this poller's to judge.
        raw = {
            **d.model_dump(mode="json", include=fields, exclude_none=True),
            "parents": [p for p in d.parents if p in ids],
        }
        for block in _WATCHED & raw.keys():
            try:
                raw[block] = _secrets(raw[block], secrets_out)
            except SecretUnavailable as exc:  # names the reference, never a value
                _log.warning("secret unavailable; the poller will not run this watch",
                             device=d.id, watch=block, error=str(exc))  # fmt: skip
                del raw[block]
        devices.append(raw)
    out: dict[str, Any] = {
        "sites": [_site(s, discovery, secrets_out) for s in config.sites if s.id in own],
        "devices": devices,
        "icmp": config.icmp.model_dump(mode="json", exclude_none=True),
        "flapping": config.flapping.model_dump(mode="json"),
        "probe_defaults": {
            k.value: v.model_dump(mode="json", exclude_none=True)
            for k, v in config.probe_defaults.items()
        },
    }
    if watches and config.traps is not None:
        try:
            out["traps"] = _secrets(config.traps.model_dump(mode="json"), secrets_out)
        except SecretUnavailable as exc:
            _log.warning("secret unavailable; the poller receives no traps", error=str(exc))
    if watches:
        out["secrets"] = secrets_out
    return out


def _site(site: Site, discovery: bool, secrets_out: dict[str, str]) -> dict[str, Any]:
    out = {**site.model_dump(mode="json", include={"id", "name", "timezone"}), "poller": "local"}
    if discovery and site.discovery is not None:
        try:
            out["discovery"] = _secrets(site.discovery.model_dump(mode="json"), secrets_out)
        except SecretUnavailable as exc:
            _log.warning("secret unavailable; the poller cannot discover this site",
                         site=site.id, error=str(exc))  # fmt: skip
    return out


def _secrets(value: Any, out: dict[str, str]) -> Any:
    """Replace each secret reference ({env: ...} or {file: ...}) by {secret: NAME}, its
    value in `out[NAME]`; one name per reference, so two devices sharing a community
    share a name. Raises SecretUnavailable."""
    if isinstance(value, dict):
        if set(value) in ({"env"}, {"file"}) or (
            set(value) == {"env", "file"} and None in value.values()
        ):
            ref = SecretRef.model_validate(value)
            name = "s" + hashlib.sha256(ref.describe().encode()).hexdigest()[:12]
            out[name] = ref.resolve().get_secret_value()
            return {"secret": name}
        return {k: _secrets(v, out) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets(v, out) for v in value]
    return value


def revision(projected: dict[str, Any], key: str | None = None) -> str:
    """A digest of what the poller was given; its secrets enter only through an HMAC
    keyed with `key` (the credential's hash), so a revision reveals nothing of them."""
    public = {k: v for k, v in projected.items() if k != "secrets"}
    text = json.dumps(public, sort_keys=True, separators=(",", ":"))
    if "secrets" in projected:
        sealed = json.dumps(projected["secrets"], sort_keys=True).encode()
        text += hmac.new((key or "").encode(), sealed, hashlib.sha256).hexdigest()
    return hashlib.sha256(text.encode()).hexdigest()[:16]
