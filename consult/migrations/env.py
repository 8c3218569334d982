"""Alembic environment: runs migrations on the async engine of the configured database.

On SQLite, foreign keys are not enforced while migrations run. A batch operation there copies
the table into a new one and drops the old one, and with enforcement on, dropping a table
deletes the rows of every table that refers to it with ON DELETE CASCADE (and empties the
columns that refer to it with ON DELETE SET NULL): upgrading a database would lose its data.
SQLite's own procedure for changing a table's schema turns enforcement off first and checks
the foreign keys at the end, which is what this environment does
(:func:`consult.migrate.sqlite_foreign_keys_off`).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from consult.db import create_engine
from consult.migrate import sqlite_foreign_keys_off
from consult.models import Base
from consult.settings import Settings, normalise_database_url

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return normalise_database_url(url) if url else Settings.from_env().database_url


def _run(connection: Connection) -> None:
    with sqlite_foreign_keys_off(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    """Emit SQL to standard output instead of touching a database."""
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_online())
