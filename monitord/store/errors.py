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
