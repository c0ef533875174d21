"""Alembic, driven from code: the migrations ship inside the package, no alembic.ini."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from monitord.store.versions import VERSIONS, newest_file_revision

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = "monitord.store:migrations"

# Any signed 64-bit constant will do, as long as every daemon sharing the database uses it.
_PG_MIGRATION_LOCK = 0x6D6F6E69746F7264  # "monitord"


# Alembic costs ~0.15 s to import and more to read its scripts: a command on an up-to-date
# database (every CLI call) skips both (store/versions.py names the newest revision).


def is_current(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False  # no table yet: a new database
    return [row[0] for row in found] == [newest_file_revision()]


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending(engine: Engine) -> int:
    """How many migrations `upgrade` would apply: the files numbered after the database's
    revision (numbers have gaps, 0004 and 0007 were never shipped)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        found = []  # a new database: all of them
    current = int(found[0][0]) if len(found) == 1 and str(found[0][0]).isdigit() else 0
    files = VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py")
    return sum(1 for p in files if int(p.name[:4]) > current)


def upgrade(engine: Engine, on_step: Callable[[], None] | None = None) -> None:
    """Bring the schema to head in one transaction; a no-op when it is already there.

    `on_step` hears of each migration applied (alembic's on_version_apply, env.py)."""
    if is_current(engine):
        return
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several daemons sharing one database start together; only one may migrate,
            # the others wait and then find nothing to do. Released at commit.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        config = alembic_config(connection)
        if on_step is not None:
            config.attributes["on_version_apply"] = on_step
        command.upgrade(config, "head")
