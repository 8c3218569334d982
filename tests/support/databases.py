"""A database of its own for each test, copied from a template built once per test session.

Seeding the demo takes seconds; copying a database takes milliseconds. Each template (an empty
schema, the demo, a small bill open to contributions) is built the first time a test asks for
it, on SQLite or on PostgreSQL, then copied for every test that needs it: a file copy on
SQLite, `CREATE DATABASE ... TEMPLATE` on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession

import consult.models  # noqa: F401  (registers every table on the metadata)
from consult.db import Base, create_engine, create_session_factory
from consult.settings import normalise_database_url

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# The schema alone; every other template is the schema and what its seeder writes.
EMPTY = "empty"
# Not a template: a database without any table, for the tests of the migrations.
BLANK = "blank"

Seeder = Callable[[AsyncSession, datetime], Awaitable[object]]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def create_schema(url: str) -> None:
    """The tables of the models, as they are now (SQLite: the migrations run on PostgreSQL)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


async def seed(url: str, seeder: Seeder, now: datetime) -> None:
    """Run `seeder` in one committed session on the database at `url`."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            await seeder(session, now)
            await session.commit()
    finally:
        await engine.dispose()


class PostgresServer:
    """Creates and drops this session's databases on the configured PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = normalise_database_url(url)
        self.prefix = f"consult_test_{uuid.uuid4().hex[:10]}"
        self.count = 0

    def url_of(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def new_name(self, label: str) -> str:
        self.count += 1
        return f"{self.prefix}_{label}_{self.count}"

    def create(self, name: str, template: str | None = None) -> str:
        copy = f' TEMPLATE "{template}"' if template else ""
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"{copy}'))
        return self.url_of(name)

    def drop(self, name: str) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, statement: str) -> None:
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()


class DatabaseTemplates:
    """The session's templates, built on first use, and the copies made of them for tests."""

    def __init__(
        self,
        directory: Path,
        seeders: dict[str, Seeder],
        now: datetime,
        postgres: Callable[[], PostgresServer],
    ) -> None:
        self.directory = directory
        self.seeders = seeders
        self.now = now
        self._postgres_factory = postgres
        self._postgres: PostgresServer | None = None
        self._sqlite: dict[str, Path] = {}
        self._postgres_templates: dict[str, str] = {}

    # --- SQLite: files ------------------------------------------------------------------

    def sqlite_copy(self, template: str, destination: Path) -> str:
        """A copy of the template as the SQLite file `destination` (with no template: no file,
        a database without tables); returns its URL."""
        if template != BLANK:
            shutil.copyfile(self._sqlite_template(template), destination)
        return sqlite_url(destination)

    def _sqlite_template(self, template: str) -> Path:
        if template not in self._sqlite:
            path = self.directory / f"{template}.sqlite3"
            url = sqlite_url(path)
            asyncio.run(create_schema(url))
            if template != EMPTY:
                asyncio.run(seed(url, self.seeders[template], self.now))
            # The last connection closed checkpoints the write-ahead log into the file.
            assert not path.with_name(path.name + "-wal").exists()
            self._sqlite[template] = path
        return self._sqlite[template]

    # --- PostgreSQL: databases created from a template ----------------------------------

    @property
    def postgres(self) -> PostgresServer:
        if self._postgres is None:
            self._postgres = self._postgres_factory()
        return self._postgres

    def postgres_copy(self, template: str) -> tuple[str, str]:
        """A new database copied from the template (with no template: without tables);
        returns its name and its URL."""
        source = None if template == BLANK else self._postgres_template(template)
        name = self.postgres.new_name("test")
        return name, self.postgres.create(name, template=source)

    def _postgres_template(self, template: str) -> str:
        if template not in self._postgres_templates:
            from consult.migrate import upgrade

            server = self.postgres
            name = server.new_name(template)
            if template != EMPTY:
                url = server.create(name, template=self._postgres_template(EMPTY))
                asyncio.run(seed(url, self.seeders[template], self.now))
            else:
                url = server.create(name)
                upgrade(url)  # PostgreSQL gets the schema the migrations build, as in production
            self._postgres_templates[template] = name
        return self._postgres_templates[template]

    def close(self) -> None:
        """Drop the PostgreSQL templates (each test drops its own copy)."""
        if self._postgres is not None:
            for name in self._postgres_templates.values():
                self._postgres.drop(name)
