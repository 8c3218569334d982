"""Database plumbing: declarative base, engine and session factories."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, Table, TypeDecorator, event, exc, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names so Alembic migrations are reproducible on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zone support, so values are stored naive in UTC and
    made aware again when read; PostgreSQL stores `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


CONNECT_TIMEOUT_SECONDS = 10
PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle in the pool for longer than this is checked before it
is lent (a server restarted meanwhile has closed it); one back sooner is lent as it is."""
_RETURNED_AT = "consult_returned_at"


def create_engine(
    database_url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, **kwargs: Any
) -> AsyncEngine:
    """Create the async engine; SQLite gets foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # A server out of reach fails a connection within seconds (asyncpg waits a minute by
    # default), so a request meets an outage as a prompt 503 rather than a hang.
    connect_args = {"timeout": CONNECT_TIMEOUT_SECONDS} if "+asyncpg" in database_url else {}
    engine = create_async_engine(database_url, connect_args=connect_args, **kwargs)
    _ping_connections_back_from_idle(engine, ping_after_idle)
    return engine


def _ping_connections_back_from_idle(engine: AsyncEngine, seconds: float) -> None:
    """Check a pooled connection before lending it only when it has been idle a while.

    SQLAlchemy's own `pool_pre_ping` checks every one, every time: on asyncpg that is three
    round trips (a transaction opened around the ping, for pgbouncer), which made up a tenth
    of a vote. Under load connections come back within milliseconds and are lent straight
    away; a connection dead after a restart has been idle at least as long as the restart, so
    it is still found and replaced (with every connection older than it) before any request
    meets it.
    """
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned < seconds:
            return  # just opened, or just used
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (templates read them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def upsert_into(session: AsyncSession, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `model`'s table in the session's dialect, which can then say what to do
    on a conflict (``on_conflict_do_nothing``, ``on_conflict_do_update``)."""
    return insert_for(session.get_bind().dialect.name, model)


def insert_for(dialect: str, table: type[Base] | Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in that dialect (by its name), for a statement built once."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_missing(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]
) -> None:
    """Insert the rows whose key is not stored yet, and skip the others without an error.

    Several processes may store the same row at once (two workers embedding one text): the
    loser of the race waits for the winner's transaction and then skips the row, where a plain
    INSERT would fail on the duplicate key and lose the whole transaction.
    """
    if not rows:
        return
    await session.execute(upsert_into(session, model).on_conflict_do_nothing(), rows)


async def lock_row(session: AsyncSession, model: type[Base], row_id: int) -> None:
    """Hold the row until the transaction ends: whoever changes it next waits, then reads what
    this transaction committed. Counters kept beside their rows stay exact this way.

    PostgreSQL locks the row (``SELECT ... FOR UPDATE``). SQLite has one writer at a time and
    reads outside a write transaction, so a write that changes nothing takes the database's
    write lock before anything is read.
    """
    table = cast(Table, model.__table__)
    key = model.__mapper__.primary_key[0]
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(key).where(key == row_id).with_for_update())
    else:
        # On the table, not the mapped class: nothing loaded in the session is touched.
        await session.execute(update(table).where(key == row_id).values({key.name: key}))
