"""The persistent store; the only package that may import SQLAlchemy or Alembic."""

from monitord.store.errors import ActiveTicketExists, RepeatedAction, TicketConflict
from monitord.store.store import InventoryDiff, Store, StoreError

__all__ = [
    "ActiveTicketExists",
    "InventoryDiff",
    "RepeatedAction",
    "Store",
    "StoreError",
    "TicketConflict",
]
