"""Run Alembic migrations from code (the command line and the tests use this)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url`, without needing alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database schema up to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Take the database schema down to `revision`."""
    command.downgrade(alembic_config(database_url), revision)


class ForeignKeysStillEnforced(RuntimeError):
    """SQLite kept enforcing foreign keys where a migration needs them off."""


class ForeignKeyViolations(RuntimeError):
    """Migrations left rows pointing at rows that do not exist."""


def _enforced(connection: Connection) -> bool:
    return bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Run the block with SQLite's foreign keys not enforced, then check them all.

    Batch operations recreate a table (copy, drop the old one, rename the copy); with
    enforcement on, the drop deletes or empties the rows of other tables that refer to it. This
    follows SQLite's procedure for other schema changes (https://sqlite.org/lang_altertable.html,
    section 7): enforcement off outside any transaction, the change, ``PRAGMA
    foreign_key_check``, enforcement back on. Raises :class:`ForeignKeysStillEnforced` when
    the connection is already inside a transaction (the pragma is then ignored) and
    :class:`ForeignKeyViolations` when the migrations left dangling references. Other databases
    run the block as it is.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    if _enforced(connection):
        raise ForeignKeysStillEnforced(
            "SQLite ignores PRAGMA foreign_keys inside a transaction: migrate on a new connection"
        )
    try:
        yield
        dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if dangling:
            raise ForeignKeyViolations(
                "rows refer to rows that do not exist (table, rowid, parent): "
                + ", ".join(f"{row[0]} {row[1]} -> {row[2]}" for row in dangling[:10])
            )
    finally:
        # Ignored while the migrations' transaction is open; the engine's own connections set
        # it again when they connect, and this connection is not used for anything else.
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def require_foreign_keys_off(connection: Connection) -> None:
    """Refuse to recreate a table on SQLite while foreign keys are enforced.

    Migrations whose batch operations copy a table call this first, so that running them
    through anything other than this project's environment cannot delete the rows that refer
    to the table.
    """
    if connection.dialect.name == "sqlite" and _enforced(connection):
        raise ForeignKeysStillEnforced(
            "recreating a table with SQLite foreign keys on would delete the rows referring to it"
        )
