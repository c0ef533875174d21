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
from monitord.present.signature import ON_BEHALF_OF, PRINCIPAL, api_principal

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


def sign(who: Principal, kind: str, on_behalf_of: str | None) -> dict[str, str]:
    """What the event records about who posted it, or 403 / 422.

    A verification is the customer's acceptance: only a customer token signs it, or a
    manager who says, visibly, for whom (a customer on the phone). Engineers never do: the
    forged "Customer Zhao" sign-off came from an engineer's token. Only managers act on
    someone's behalf at all."""
    if on_behalf_of is not None and who.role != ApiRole.MANAGER:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"the {who.role.value} role may not act on someone's behalf")  # fmt: skip
    if kind == "verify" and who.role == ApiRole.ENGINEER:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "only the customer (or a manager on its behalf) may verify")  # fmt: skip
    if kind == "verify" and who.role == ApiRole.MANAGER and on_behalf_of is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", ON_BEHALF_OF], "type": "value_error",
              "msg": "a manager verifies only on behalf of the customer: name them"}],
        )  # fmt: skip
    out = {PRINCIPAL: api_principal(who.name, who.role.value)}
    return out | ({ON_BEHALF_OF: on_behalf_of} if on_behalf_of else {})


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
