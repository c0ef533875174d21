"""The persistent store; the only package that may import SQLAlchemy or Alembic.

Its names are imported on first use (PEP 562): a module of it that needs no SQLAlchemy
(records, rows, peek) is imported without it, so the read-only commands never load the ORM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitord.store.errors import ActiveTicketExists, RepeatedAction, TicketConflict
    from monitord.store.store import InventoryDiff, Store, StoreError

_HOME = {
    "ActiveTicketExists": "errors",
    "RepeatedAction": "errors",
    "TicketConflict": "errors",
    "InventoryDiff": "store",
    "Store": "store",
    "StoreError": "store",
}

__all__ = [
    "ActiveTicketExists",
    "InventoryDiff",
    "RepeatedAction",
    "Store",
    "StoreError",
    "TicketConflict",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value
