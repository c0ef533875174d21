"""WS-Security UsernameToken (OASIS UsernameToken Profile 1.0) for the ONVIF test peer.

The peer verifies tokens with `password_digest`; tests build raw requests with `Token` and
`request`, the way an ONVIF client puts them on the wire.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from tests.peers.onvif_docs import NS, iso

PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken Profile 1.0: Base64(SHA-1(nonce + created + password))."""
    digest = hashlib.sha1(nonce + created.encode() + password.encode(), usedforsecurity=False)
    return base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class Token:
    """A WS-Security UsernameToken header for raw requests in tests (PasswordDigest)."""

    username: str
    password: str
    nonce: bytes = field(default_factory=lambda: os.urandom(16))
    created: str = field(default_factory=lambda: iso(dt.datetime.now(dt.UTC)))

    def header(self) -> str:
        digest = password_digest(self.nonce, self.created, self.password)
        return (
            '<wsse:Security env:mustUnderstand="1"><wsse:UsernameToken>'
            f"<wsse:Username>{escape(self.username)}</wsse:Username>"
            f'<wsse:Password Type="{PASSWORD_DIGEST}">{digest}</wsse:Password>'
            f"<wsse:Nonce>{base64.b64encode(self.nonce).decode()}</wsse:Nonce>"
            f"<wsu:Created>{self.created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
        )


def request(body: str, token: Token | None = None) -> bytes:
    """A SOAP 1.2 request envelope, as a client sends it."""
    header = f"<env:Header>{token.header()}</env:Header>" if token else ""
    xmlns = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope {xmlns}>{header}'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    ).encode()
