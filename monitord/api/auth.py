"""Bearer tokens and roles.

Tokens come from secret references (env or file) and are resolved again only when the
configuration object changes (SIGHUP), so a revoked token stops working at the next reload.
A token's value never leaves this module: not in logs, errors, responses or metrics; only
its configured `name` identifies the client.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import HTTPException, status

from monitord import log
from monitord.config import Config
from monitord.config.models import ApiRole
from monitord.config.secrets import SecretUnavailable

_log = log.get("monitord.api")

# Which ticket actions (the CLI's names) each role may post. Engineers work tickets end to
# end (the issue: "an engineer drives a ticket from opened to closed"); a customer only
# signs off and comments (T5). Managers may do everything engineers can.
ALL_ACTIONS = frozenset(
    {"ack", "onsite", "diagnose", "plan", "stage", "resolve", "verify", "close", "reopen",
     "pause", "resume", "comment"}
)  # fmt: skip
MAY_POST: dict[ApiRole, frozenset[str]] = {
    ApiRole.ENGINEER: ALL_ACTIONS,
    ApiRole.MANAGER: ALL_ACTIONS,
    ApiRole.CUSTOMER: frozenset({"verify", "comment"}),
}


def unauthorized() -> HTTPException:
    # A new exception each time: raising one shared instance again and again grows its
    # __traceback__ by every raise (frames and all), a leak of ~7-36 KB per refused request.
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "missing or invalid bearer token",
        headers={"WWW-Authenticate": "Bearer"},
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's configured name, role and (for customers) contract."""

    name: str
    role: ApiRole
    contract: str | None

    def sees_contract(self, contract: str) -> bool:
        return self.role != ApiRole.CUSTOMER or contract == self.contract

    def require(self, *roles: ApiRole) -> None:
        if self.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"the {self.role.value} role may not do this"
            )


class TokenBook:
    """The configured tokens, resolved; looked up in constant time per token."""

    def __init__(self) -> None:
        self._config: Config | None = None
        self._entries: list[tuple[bytes, Principal]] = []

    def refresh(self, config: Config) -> None:
        if config is self._config:
            return
        entries = []
        for t in config.api.tokens:
            try:
                value = t.token.resolve().get_secret_value()
            except SecretUnavailable as exc:  # names the reference, never a value
                _log.error("api token unavailable; it cannot log in", client=t.name, error=str(exc))
                continue
            if not value:
                _log.error("api token is empty; it cannot log in", client=t.name)
                continue
            entries.append((value.encode(), Principal(t.name, t.role, t.contract)))
        self._config, self._entries = config, entries

    def authenticate(self, given: str | None) -> Principal:
        """The principal of a bearer token (the part after "Bearer "), or 401."""
        if not given:
            raise unauthorized()
        presented = given.encode()
        found = None
        # Compare with every token, not stopping at a match, so timing tells nothing.
        for value, principal in self._entries:
            if hmac.compare_digest(presented, value) and found is None:
                found = principal
        if found is None:
            raise unauthorized()
        return found
