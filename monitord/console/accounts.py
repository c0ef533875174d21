"""Local accounts, passwords and sessions of the web console: the rules, over the store's rows.

Passwords are hashed with argon2id (argon2-cffi, the reference implementation's binding,
with its RFC 9106 default parameters), so a stolen database costs memory-hard work per guess.
A session is a random cookie value; only its SHA-256 is stored. Every call is synchronous
(argon2 takes tens of milliseconds, the store blocks): the web layer runs them in a thread.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from monitord.config.models import ConsoleSettings
from monitord.config.oauth import PROVIDERS
from monitord.store import Store
from monitord.store.records import UserRecord

MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id


@functools.cache
def _dummy() -> str:
    """Checked when the name is unknown, so a wrong name costs as long as a wrong password.
    Made on first use: a hash takes ~0.17 s, and every start of the daemon imports this."""
    return _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    ENGINEER = "engineer"
    DISPATCHER = "dispatcher"
    MANAGER = "manager"
    CUSTOMER = "customer"


class AccountError(Exception):
    """A request the accounts refuse; the message says why (never a password)."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    display_name: str
    role: Role
    contract: str | None
    sites: tuple[str, ...]

    def sees(self, contract: str, site: str) -> bool:
        """Whether this user may see a ticket or site of `contract` at `site` (tenancy)."""
        if self.role != Role.CUSTOMER:
            return True
        return contract == self.contract and (not self.sites or site in self.sites)


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    user: User
    csrf: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(r: UserRecord) -> User:
    return User(r.id, r.name, r.display_name, Role(r.role), r.contract, r.sites)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


class Accounts:
    def __init__(self, store: Store, settings: ConsoleSettings) -> None:
        self.store, self.settings = store, settings

    def add(
        self,
        name: str,
        role: Role,
        password: str,
        at: dt.datetime,
        display_name: str = "",
        contract: str | None = None,
        sites: Sequence[str] = (),
    ) -> User:
        check_password(password)
        if role == Role.CUSTOMER and not contract:
            raise AccountError("a customer needs a contract (the tickets they may see)")
        if role != Role.CUSTOMER and (contract or sites):
            raise AccountError("only a customer is bound to a contract and sites")
        if self.store.accounts.user(name) is not None:
            raise AccountError(f"user {name!r} exists")
        record = self.store.accounts.add_user(name, display_name or name, role.value, contract, sites,
                                     _hasher.hash(password), at)  # fmt: skip
        return _user(record)

    def list(self) -> list[tuple[User, bool]]:
        """Every user with whether they are disabled."""
        return [(_user(r), r.disabled) for r in self.store.accounts.users()]

    def passwd(self, name: str, password: str) -> None:
        """A new password; it also unlocks the name and signs the user out everywhere."""
        check_password(password)
        record = self._record(name)
        self.store.accounts.update_user(record.id, password_hash=_hasher.hash(password), failures=0,
                               locked_until=None)  # fmt: skip
        self.store.accounts.end_sessions(user_id=record.id)

    def disable(self, name: str) -> None:
        record = self._record(name)
        self.store.accounts.update_user(record.id, disabled=True)
        self.store.accounts.end_sessions(user_id=record.id)

    def link(self, name: str, provider: str, subject: str, at: dt.datetime) -> None:
        """Let `provider`'s user `subject` sign in as `name` (console/oauth.py)."""
        if provider not in PROVIDERS:
            raise AccountError(f"unknown provider {provider!r}: one of {', '.join(PROVIDERS)}")
        subject = subject.strip()
        if not subject or len(subject) > 128 or not subject.isprintable():
            raise AccountError("a provider's user id is 1-128 printable characters")
        record = self._record(name)
        if not self.store.accounts.link_identity(provider, subject, record.id, at):
            owner = self.store.accounts.identity_user(provider, subject)
            raise AccountError(
                f"{provider} id {subject!r} is linked to {owner.name if owner else '?'!r}"
            )

    def unlink(self, name: str, provider: str, subject: str) -> None:
        record = self._record(name)
        owner = self.store.accounts.identity_user(provider, subject)
        if owner is None or owner.id != record.id:
            raise AccountError(f"{provider} id {subject!r} is not linked to {name!r}")
        self.store.accounts.unlink_identity(provider, subject)

    def identities(self) -> dict[str, str]:
        """user name -> its linked identities, `provider:id,provider:id`."""
        out: dict[str, str] = {}
        for i in self.store.accounts.identities():
            seen = out.get(i.user_name)
            out[i.user_name] = f"{seen + ',' if seen else ''}{i.provider}:{i.subject}"
        return out

    def sign_in(self, name: str, password: str, now: dt.datetime) -> tuple[str, Session]:
        """A new session's cookie value and the session, or AccountError (one message for
        a wrong name, a wrong password and a disabled user: it tells a guesser nothing)."""
        refused = AccountError("wrong name or password")
        record = self.store.accounts.user(name)
        if record is None:
            _verify(_dummy(), password)
            raise refused
        if record.locked_until is not None and record.locked_until > now:
            raise AccountError("too many wrong passwords: try again later")
        if not _verify(record.password_hash, password):
            failures = record.failures + 1
            locked = failures >= self.settings.max_failures
            self.store.accounts.update_user(
                record.id,
                failures=0 if locked else failures,
                locked_until=now + self.settings.lockout if locked else record.locked_until,
            )
            raise refused
        if record.disabled:
            raise refused
        if record.failures or record.locked_until:
            self.store.accounts.update_user(record.id, failures=0, locked_until=None)
        if _hasher.check_needs_rehash(record.password_hash):
            self.store.accounts.update_user(record.id, password_hash=_hasher.hash(password))
        return self.open_session(record, now)

    def open_session(self, record: UserRecord, now: dt.datetime) -> tuple[str, Session]:
        """A new session for a user already proven (a password, or a one-time link)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.store.accounts.add_session(digest(token), record.id, csrf, now,
                               now + self.settings.session_ttl)  # fmt: skip
        return token, Session(digest(token), _user(record), csrf)

    def session(self, token: str | None, now: dt.datetime) -> Session | None:
        """The session of a cookie value, if it is alive; an expired one is ended."""
        if not token:
            return None
        hashed = digest(token)
        found = self.store.accounts.session(hashed)
        if found is None:
            return None
        idle = now - found.seen_at > self.settings.idle_timeout
        if found.user.disabled or now >= found.expires_at or idle:
            self.store.accounts.end_sessions(token_hash=hashed)
            return None
        if now - found.seen_at > dt.timedelta(minutes=1):  # not a write per page view
            self.store.accounts.touch_session(hashed, now)
        return Session(hashed, _user(found.user), found.csrf)

    def sign_out(self, session: Session, everywhere: bool = False) -> int:
        if everywhere:
            return self.store.accounts.end_sessions(user_id=session.user.id)
        return self.store.accounts.end_sessions(token_hash=session.token_hash)

    def _record(self, name: str) -> UserRecord:
        record = self.store.accounts.user(name)
        if record is None:
            raise AccountError(f"no user {name!r}")
        return record


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class AttemptLimiter:
    """Sign-in attempts per client address in the last minute (in memory: a restart forgets,
    the per-name lockout in the store does not)."""

    def __init__(self) -> None:
        self._seen: dict[str, list[dt.datetime]] = {}

    def allow(self, client: str, now: dt.datetime, per_minute: int) -> bool:
        recent = [t for t in self._seen.get(client, []) if now - t < dt.timedelta(minutes=1)]
        if len(self._seen) > 10_000:  # bounded: forget the quiet ones
            self._seen = {k: v for k, v in self._seen.items() if v and now - v[-1] < _MINUTE}
        allowed = len(recent) < per_minute
        if allowed:
            recent.append(now)
        self._seen[client] = recent
        return allowed


_MINUTE = dt.timedelta(minutes=1)
