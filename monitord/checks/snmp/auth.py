"""pysnmp authentication objects built from our credentials, once per credential set.

pysnmp's engine configures an entry per authentication object it sees; building the same
one for every request would re-localise v3 keys (a password-to-key hash) each time.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    UsmUserData,
    usmAesCfb128Protocol,
    usmAesCfb192Protocol,
    usmAesCfb256Protocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACSHAAuthProtocol,
)

if TYPE_CHECKING:
    from monitord.checks.snmp.client import Credentials

AUTH_PROTOCOLS: Final = {
    "SHA": usmHMACSHAAuthProtocol,
    "SHA256": usmHMAC192SHA256AuthProtocol,
    "SHA512": usmHMAC384SHA512AuthProtocol,
}
PRIV_PROTOCOLS: Final = {
    "AES": usmAesCfb128Protocol,
    "AES192": usmAesCfb192Protocol,
    "AES256": usmAesCfb256Protocol,
}


def _fingerprint(c: Credentials) -> str:
    """A key for the cache that holds no secret in clear."""
    parts = [
        c.version,
        c.community.get_secret_value() if c.community else "",
        c.user or "",
        c.auth_protocol,
        c.auth_key.get_secret_value() if c.auth_key else "",
        c.priv_protocol,
        c.priv_key.get_secret_value() if c.priv_key else "",
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class AuthCache:
    def __init__(self) -> None:
        self._built: dict[str, CommunityData | UsmUserData] = {}
        self._slots: dict[str, int] = {}
        self._users: list[dict[str, str]] = [{}]  # per engine: v3 user name -> fingerprint

    def slot(self, c: Credentials) -> int:
        """Which engine serves these credentials (0 unless a v3 user name collides).

        pysnmp keeps one USM entry per user name in an engine and replaces it when the same
        name comes with other keys: two devices whose v3 users share a name but not keys
        would swap the entry under each other's requests (WrongDigest). Such a user goes
        to another engine.
        """
        if c.version != "3" or not c.user:
            return 0
        key = _fingerprint(c)
        if key not in self._slots:
            free = [i for i, users in enumerate(self._users) if users.get(c.user, key) == key]
            if not free:
                self._users.append({})
                free = [len(self._users) - 1]
            self._users[free[0]][c.user] = key
            self._slots[key] = free[0]
        return self._slots[key]

    def for_credentials(self, c: Credentials) -> CommunityData | UsmUserData:
        key = _fingerprint(c)
        if key not in self._built:
            self._built[key] = build(c)
        return self._built[key]


def build(c: Credentials) -> CommunityData | UsmUserData:
    if c.version == "2c":
        community = c.community.get_secret_value() if c.community else ""
        return CommunityData(community, mpModel=1)
    if not c.user:
        raise ValueError("SNMPv3 needs a user")
    if c.auth_key is None:
        return UsmUserData(c.user)
    auth = AUTH_PROTOCOLS[c.auth_protocol]
    if c.priv_key is None:
        return UsmUserData(c.user, authKey=c.auth_key.get_secret_value(), authProtocol=auth)
    return UsmUserData(
        c.user,
        authKey=c.auth_key.get_secret_value(),
        privKey=c.priv_key.get_secret_value(),
        authProtocol=auth,
        privProtocol=PRIV_PROTOCOLS[c.priv_protocol],
    )
