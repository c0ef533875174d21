"""The OAuth `state`: signed, single-use, bound to the browser that pressed the button.

The state sent to the provider is `nonce.mac`, where the MAC (HMAC-SHA256 under a key that
lives only in this process) covers the provider, the nonce and a random value kept in the
browser's cookie. So a state made up, one from another provider's flow, one carried to
another browser (no cookie, or another cookie) and one used before are all refused: the
nonce is pending here until its one callback or its expiry. A restart forgets the pending
states; a sign-in begun before it starts again, nothing worse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

MAX_PENDING = 10_000  # bounded: a flood of button presses evicts the oldest


class States:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._pending: dict[str, tuple[str, dt.datetime]] = {}

    def _mac(self, provider: str, nonce: str, browser: str) -> str:
        message = f"{provider}\n{nonce}\n{browser}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, provider: str, now: dt.datetime, ttl: dt.timedelta) -> tuple[str, str]:
        """A new (state for the provider, value for the browser's cookie)."""
        self._pending = {n: v for n, v in self._pending.items() if v[1] > now}
        while len(self._pending) >= MAX_PENDING:
            self._pending.pop(next(iter(self._pending)))
        nonce, browser = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        self._pending[nonce] = (provider, now + ttl)
        return f"{nonce}.{self._mac(provider, nonce, browser)}", browser

    def redeem(self, provider: str, state: str, browser: str, now: dt.datetime) -> bool:
        """Whether `state` came back to the browser it was issued to, once and in time."""
        nonce, _, mac = state.partition(".")
        if not nonce or not browser or len(state) > 200:
            return False
        if not hmac.compare_digest(mac.encode(), self._mac(provider, nonce, browser).encode()):
            return False
        found = self._pending.pop(nonce, None)
        return found is not None and found[0] == provider and now < found[1]
