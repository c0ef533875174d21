"""Store methods for the web console's accounts and sessions (ConsoleUserRow, ConsoleSessionRow).

The store knows rows, not rules: hashing, lockout policy and roles live in
monitord/console/accounts.py, the only caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update

from monitord.store.core import Repository, require_aware
from monitord.store.records import (
    ContactLinkRecord,
    IdentityRecord,
    LinkRecord,
    SessionRecord,
    UserRecord,
)
from monitord.store.schema import (
    ConsoleIdentityRow,
    ConsoleLinkRow,
    ConsoleSessionRow,
    ConsoleUserRow,
)


class Accounts(Repository):
    """`store.accounts`: console users and their sessions."""

    def add_user(
        self,
        name: str,
        display_name: str,
        role: str,
        contract: str | None,
        sites: Sequence[str],
        password_hash: str,
        at: dt.datetime,
    ) -> UserRecord:
        require_aware(at)
        row = ConsoleUserRow(name=name, display_name=display_name, role=role, contract=contract,
                             sites=list(sites), password_hash=password_hash, disabled=False,
                             failures=0, locked_until=None, created_at=at)  # fmt: skip
        with self._session(f"add console user {name}", write=True) as s:
            s.add(row)
            s.flush()
            return _user(row)

    def user(self, name: str) -> UserRecord | None:
        query = select(ConsoleUserRow).where(ConsoleUserRow.name == name)
        with self._session(f"read console user {name}") as s:
            row = s.scalars(query).one_or_none()
            return _user(row) if row else None

    def users(self) -> list[UserRecord]:
        with self._session("list console users") as s:
            return [_user(r) for r in s.scalars(select(ConsoleUserRow).order_by("name"))]

    def update_user(self, user_id: int, **changes: object) -> None:
        """Set columns of one user (password_hash, disabled, failures, locked_until)."""
        query = update(ConsoleUserRow).where(ConsoleUserRow.id == user_id).values(**changes)
        with self._session("update a console user", write=True) as s:
            s.execute(query)

    def add_session(
        self, token_hash: str, user_id: int, csrf: str, at: dt.datetime, expires: dt.datetime
    ) -> None:
        require_aware(at)
        row = ConsoleSessionRow(token_hash=token_hash, user_id=user_id, csrf=csrf,
                                created_at=at, seen_at=at, expires_at=expires)  # fmt: skip
        with self._session("start a console session", write=True) as s:
            s.add(row)

    def session(self, token_hash: str) -> SessionRecord | None:
        query = (
            select(ConsoleSessionRow, ConsoleUserRow)
            .join(ConsoleUserRow, ConsoleUserRow.id == ConsoleSessionRow.user_id)
            .where(ConsoleSessionRow.token_hash == token_hash)
        )
        with self._session("read a console session") as s:
            found = s.execute(query).one_or_none()
            if found is None:
                return None
            row, user = found
            return SessionRecord(row.token_hash, _user(user), row.csrf, row.seen_at,
                                 row.expires_at)  # fmt: skip

    def touch_session(self, token_hash: str, at: dt.datetime) -> None:
        query = (
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.token_hash == token_hash)
            .values(seen_at=at)
        )
        with self._session("refresh a console session", write=True) as s:
            s.execute(query)

    def end_sessions(self, token_hash: str | None = None, user_id: int | None = None) -> int:
        """End one session (by its hash) or every session of a user; returns how many."""
        query = delete(ConsoleSessionRow)
        if token_hash is not None:
            query = query.where(ConsoleSessionRow.token_hash == token_hash)
        if user_id is not None:
            query = query.where(ConsoleSessionRow.user_id == user_id)
        with self._session("end console sessions", write=True) as s:
            return int(s.execute(query).rowcount)  # type: ignore[attr-defined]

    def add_link(
        self, token_hash: str, user_id: int | None, ticket_id: int, at: dt.datetime,
        expires: dt.datetime, purpose: str = "signin", contact: str | None = None,
    ) -> None:  # fmt: skip
        """A new one-time link; links expired a day ago are deleted on the way (bounded)."""
        require_aware(at)
        row = ConsoleLinkRow(token_hash=token_hash, user_id=user_id, ticket_id=ticket_id,
                             created_at=at, expires_at=expires, used_at=None, purpose=purpose,
                             contact=contact)  # fmt: skip
        stale = delete(ConsoleLinkRow).where(ConsoleLinkRow.expires_at < at - dt.timedelta(days=1))
        with self._session("add a console sign-in link", write=True) as s:
            s.execute(stale)
            s.add(row)

    def link(self, token_hash: str) -> LinkRecord | None:
        query = (
            select(ConsoleLinkRow, ConsoleUserRow)
            .join(ConsoleUserRow, ConsoleUserRow.id == ConsoleLinkRow.user_id)
            .where(ConsoleLinkRow.token_hash == token_hash, ConsoleLinkRow.purpose == "signin")
        )
        with self._session("read a console sign-in link") as s:
            found = s.execute(query).one_or_none()
            if found is None:
                return None
            row, user = found
            return LinkRecord(_user(user), row.ticket_id, row.expires_at, row.used_at)

    def contact_link(self, token_hash: str, purpose: str) -> ContactLinkRecord | None:
        """A customer contact's link of `purpose` (never a sign-in link)."""
        query = select(ConsoleLinkRow).where(
            ConsoleLinkRow.token_hash == token_hash,
            ConsoleLinkRow.purpose == purpose,
            ConsoleLinkRow.user_id.is_(None),
        )
        with self._session("read a customer link") as s:
            row = s.execute(query).scalar_one_or_none()
            if row is None:
                return None
            return ContactLinkRecord(row.purpose, row.contact or "", row.ticket_id,
                                     row.expires_at, row.used_at)  # fmt: skip

    def use_link(self, token_hash: str, at: dt.datetime) -> bool:
        """Mark the link used if it is unused and alive: True for exactly one caller."""
        require_aware(at)
        query = (
            update(ConsoleLinkRow)
            .where(ConsoleLinkRow.token_hash == token_hash, ConsoleLinkRow.used_at.is_(None),
                   ConsoleLinkRow.expires_at > at)
            .values(used_at=at)
        )  # fmt: skip
        with self._session("use a console sign-in link", write=True) as s:
            return int(s.execute(query).rowcount) == 1  # type: ignore[attr-defined]

    def link_identity(self, provider: str, subject: str, user_id: int, at: dt.datetime) -> bool:
        """Link a provider's user to a console user; False if it is linked already."""
        require_aware(at)
        key = (ConsoleIdentityRow.provider == provider, ConsoleIdentityRow.subject == subject)
        with self._session(f"link a {provider} identity", write=True) as s:
            if s.scalars(select(ConsoleIdentityRow).where(*key)).one_or_none() is not None:
                return False
            s.add(ConsoleIdentityRow(provider=provider, subject=subject, user_id=user_id,
                                     created_at=at))  # fmt: skip
            return True

    def unlink_identity(self, provider: str, subject: str) -> bool:
        query = delete(ConsoleIdentityRow).where(
            ConsoleIdentityRow.provider == provider, ConsoleIdentityRow.subject == subject
        )
        with self._session(f"unlink a {provider} identity", write=True) as s:
            return int(s.execute(query).rowcount) == 1  # type: ignore[attr-defined]

    def identity_user(self, provider: str, subject: str) -> UserRecord | None:
        """The console user a provider's user is linked to, if any."""
        query = (
            select(ConsoleUserRow)
            .join(ConsoleIdentityRow, ConsoleIdentityRow.user_id == ConsoleUserRow.id)
            .where(ConsoleIdentityRow.provider == provider, ConsoleIdentityRow.subject == subject)
        )
        with self._session(f"read a {provider} identity") as s:
            row = s.scalars(query).one_or_none()
            return _user(row) if row else None

    def identities(self) -> list[IdentityRecord]:
        query = (
            select(ConsoleIdentityRow, ConsoleUserRow.name)
            .join(ConsoleUserRow, ConsoleIdentityRow.user_id == ConsoleUserRow.id)
            .order_by(ConsoleUserRow.name, ConsoleIdentityRow.provider, ConsoleIdentityRow.subject)
        )
        with self._session("list linked identities") as s:
            return [IdentityRecord(r.provider, r.subject, name, r.created_at)
                    for r, name in s.execute(query)]  # fmt: skip


def _user(r: ConsoleUserRow) -> UserRecord:
    return UserRecord(r.id, r.name, r.display_name, r.role, r.contract, tuple(r.sites),
                      r.password_hash, r.disabled, r.failures, r.locked_until)  # fmt: skip
