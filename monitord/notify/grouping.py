"""Storm grouping: due outbox rows to one recipient over one channel about one site become
one message (Alertmanager's group_wait and group_interval, but durable).

The planner runs inside the claim transaction (store/outbox.py `claim_groups`) and decides
from the rows alone, so a crash never loses a member: rows not sent stay in the outbox and
are planned again. A group's first row waits `wait` for others; after a group went out, the
next one for that scope waits until `interval` later; while a failed group waits for its
retry, new rows for its scope wait to go with it. Rows without a ticket (a test message, a
digest) go alone. Rows claimed before a crash go out again as the group they were, under
the same idempotency key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from monitord.config.delivery import Grouping
from monitord.present.i18n import MESSAGE_LABELS, MESSAGE_TAGS, word
from monitord.store.outbox import Candidate, Groups, History, Scope
from monitord.store.records import OutboxMessage

_RANK = {"A": 0, "hotline": 0, "B": 1, "C": 2, "D": 3}
_SMS_CHARS = 140


@dataclass(frozen=True, slots=True)
class About:
    """What a group's rows share: its site, and the most urgent class among them."""

    site: str | None
    ticket_class: str


class Planner:
    """Callable as store/outbox.py's `Planner`; remembers what each planned group is about."""

    def __init__(self, settings: Grouping, max_groups: int) -> None:
        self._s, self._max = settings, max_groups
        self.horizon = max(settings.interval.values(), default=dt.timedelta(0))
        self.about: dict[str, About] = {}

    def __call__(
        self, candidates: Sequence[Candidate], history: History, now: dt.datetime
    ) -> Groups:
        planned: list[tuple[str, list[Candidate]]] = []
        again: dict[str, list[Candidate]] = {}
        scopes: dict[Scope, list[Candidate]] = {}
        for c in candidates:
            if c.group_key is not None:
                again.setdefault(c.group_key, []).append(c)
            elif not self._s.enabled or c.site_id is None:
                planned.append((c.idempotency_key, [c]))
            else:
                scopes.setdefault((c.channel, c.recipient, c.site_id), []).append(c)
        # Interrupted groups first: they are the oldest promises. Newcomers to their scopes
        # wait, as after any group, for the interval.
        planned[:0] = list(again.items())
        busy = {(m.channel, m.recipient, m.site_id) for ms in again.values() for m in ms}
        for scope, members in scopes.items():
            if scope not in busy and self._ready(scope, members, history, now):
                planned.append((group_key(members), members))
        planned = planned[: self._max]
        self.about = {key: about(members) for key, members in planned}
        return [(key, [m.id for m in members]) for key, members in planned]

    def _ready(
        self, scope: Scope, members: Sequence[Candidate], history: History, now: dt.datetime
    ) -> bool:
        if scope in history.retry_at:
            return False  # a failed group of this scope retries soon: go with it
        if any(m.attempts > 0 for m in members):
            return True  # a retry: it waited before its first attempt
        cls = about(members).ticket_class
        first = min(m.created_at for m in members)
        if now < first + self._window(self._s.wait, cls):
            return False
        last = history.last_sent.get(scope)
        return last is None or now >= last + self._window(self._s.interval, cls)

    @staticmethod
    def _window(table: dict[str, dt.timedelta], cls: str) -> dt.timedelta:
        return table.get(cls, table.get("D", dt.timedelta(0)))


def group_key(members: Sequence[Candidate]) -> str:
    first = min(members, key=lambda m: m.id)
    return (
        first.idempotency_key
        if len(members) == 1
        else f"{first.idempotency_key}+{len(members) - 1}"
    )


def about(members: Sequence[Candidate]) -> About:
    classes = [m.ticket_class or "hotline" for m in members]
    return About(members[0].site_id, min(classes, key=lambda c: _RANK.get(c, len(_RANK))))


def compose(
    key: str, rows: Sequence[OutboxMessage], topic: About | None, short: bool, listed: int
) -> OutboxMessage:
    """The one message for a group's rows: the count and the first `listed` of them."""
    first = rows[0]
    if len(rows) == 1:
        return dataclasses.replace(first, idempotency_key=key)
    lang = "zh" if is_chinese(first.subject) else "en"
    cls = topic.ticket_class if topic else "hotline"
    site = (topic.site if topic else None) or "?"
    n = len(rows)
    tag = word(MESSAGE_TAGS, "unclassified" if cls == "hotline" else "class", lang).format(cls=cls)
    subject = word(MESSAGE_TAGS, "storm_subject", lang).format(tag=tag, site=site, n=n)
    shown = [r.subject for r in rows[:listed]]
    if short:
        body = f"{subject}: {'; '.join(shown)}"[:_SMS_CHARS]
    else:
        lines = [subject, "", *(f"- {s}" for s in shown)]
        if n > listed:
            lines.append(word(MESSAGE_TAGS, "storm_more", lang).format(more=n - listed))
        body = "\n".join(lines)
    return dataclasses.replace(
        first,
        idempotency_key=key,
        subject=subject,
        body=body,
        created_at=min(r.created_at for r in rows),
        attempts=max(r.attempts for r in rows),
    )


def is_chinese(subject: str) -> bool:
    """messages.py tags Chinese subjects "[A<mark>]" / "[<unclassified>]", both holding the
    Chinese class mark (MESSAGE_LABELS "class"); English ones "[class A]" do not."""
    tag = subject.partition("]")[0]
    return word(MESSAGE_LABELS, "class", "zh") in tag
