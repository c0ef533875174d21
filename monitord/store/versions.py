"""Which schema revision this monitord's migrations end at, read from their file names: no
SQLAlchemy or Alembic is imported to know it (store/peek.py reads without them)."""

from __future__ import annotations

from pathlib import Path

# Revisions are named by their number, one line (tests/integration/test_store.py checks
# that the newest file is alembic's head).
VERSIONS = Path(__file__).parent / "migrations" / "versions"


def newest_file_revision() -> str:
    return max(p.name[:4] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
