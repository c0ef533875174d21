"""Alembic environment: runs on the connection that `monitord.store.migrate` hands over.

Developers can still use the alembic command (e.g. `alembic revision --autogenerate`) with
a config naming `script_location = monitord.store:migrations` and `sqlalchemy.url`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, create_engine

from monitord.store.schema import Base


def _on_version_apply(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    tick = context.config.attributes.get("on_version_apply")
    if tick is not None:
        tick()  # a progress bar's tick (cli/progress.py via migrate.upgrade)


def _run(connection: Connection) -> None:
    context.configure(
        on_version_apply=_on_version_apply,
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters most things only by copying the table; batch mode does that.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


def offline() -> None:
    """`alembic upgrade head --sql`: print the DDL for a DBA to review and apply."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    offline()
else:
    main()
