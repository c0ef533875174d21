"""The store's exceptions; callers see these, never SQLAlchemy's."""

from __future__ import annotations


class StoreError(Exception):
    """The database failed (cannot open, connect, read or write); the message names it."""


class TicketConflict(StoreError):
    """The ticket is not at the version the caller read: reload it and decide again.

    Nothing was written. Another writer (a second daemon, the CLI) appended an event first.
    """


class ActiveTicketExists(StoreError):
    """A closed ticket cannot be reopened while another ticket with its key is active.

    Not a TicketConflict: retrying the same change cannot succeed. Nothing was written.
    """


class RepeatedAction(StoreError):
    """An action's idempotency key is already in a ticket's log: nothing was written.

    `ticket_id` and `seq` name the event it made the first time (the caller answers with
    that outcome, or refuses a key reused on another ticket).
    """

    def __init__(self, key: str, ticket_id: int, seq: int) -> None:
        super().__init__(f"action {key[:64]!r} was already recorded on ticket {ticket_id}")
        self.ticket_id = ticket_id
        self.seq = seq
