"""Alembic migrations: up, down and up again, and they match the models exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, Table, func, insert, inspect, select
from sqlalchemy.engine import Connection

import consult.models  # noqa: F401
from consult.db import Base, create_engine
from consult.migrate import (
    ForeignKeysStillEnforced,
    downgrade,
    require_foreign_keys_off,
    sqlite_foreign_keys_off,
    upgrade,
)

pytestmark = pytest.mark.each_database


# The migrations run their own event loop (as `consult db upgrade` does), so this test is
# synchronous and reads the schema in short event loops of its own.
def table_names(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def schema_differences(url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_migrations_round_trip(blank_database_url: str) -> None:
    url = blank_database_url
    upgrade(url)
    model_tables = {table.name for table in Base.metadata.sorted_tables}
    assert model_tables <= table_names(url)
    assert schema_differences(url) == []

    downgrade(url, "base")
    assert table_names(url) <= {"alembic_version"}

    upgrade(url)
    assert schema_differences(url) == []


# --- rows survive every upgrade -----------------------------------------------------------

MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def _value(column: Column[Any]) -> object:
    """A value of the column's type (non-null, short enough for its length)."""
    choices = getattr(column.type, "enums", None)
    if choices:
        return choices[0]
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = str
    if kind is bool:
        return False
    if kind is int:
        return 1
    if kind is float:
        return 0.5
    if kind is datetime:
        return MOMENT if getattr(column.type, "timezone", False) else MOMENT.replace(tzinfo=None)
    if kind is bytes:
        return b"\x00\x01"
    if kind in (dict, list):
        return {}
    length = getattr(column.type, "length", None) or 8
    return "x1234567"[:length]


def _row(table: Table, inserted: dict[str, dict[str, object]]) -> dict[str, object]:
    """One row of ``table`` in which every foreign key refers to the row inserted into its
    table (itself included), and every other column has a value when it must."""
    row: dict[str, object] = {}
    references = {fk.parent.name: fk for fk in table.foreign_keys}
    for column in table.columns:
        if column.name not in references and (not column.nullable or column.primary_key):
            row[column.name] = _value(column)
    for name, fk in references.items():
        parent = table.name if fk.column.table.name == table.name else fk.column.table.name
        source = row if parent == table.name else inserted.get(parent)
        if source is not None and fk.column.name in source:
            row[name] = source[fk.column.name]
        elif not table.columns[name].nullable:
            raise AssertionError(f"{table.name}.{name} refers to an empty table")
    return row


def seed_every_table(url: str) -> dict[str, dict[str, object]]:
    """One row in every table of the database's schema, each foreign key pointing at a row."""

    def seed(connection: Connection) -> dict[str, dict[str, object]]:
        metadata = MetaData()
        metadata.reflect(connection)
        inserted: dict[str, dict[str, object]] = {}
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            inserted[table.name] = _row(table, inserted)
            connection.execute(insert(table), [inserted[table.name]])
        return inserted

    async def run() -> dict[str, dict[str, object]]:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(seed)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def stored_rows(url: str, tables: dict[str, dict[str, object]]) -> dict[str, list[object]]:
    """For each table seeded, its rows' values of the foreign keys seeded (its number of rows
    when it has none): later revisions add columns, which are left out."""

    def read(connection: Connection) -> dict[str, list[object]]:
        metadata = MetaData()
        metadata.reflect(connection, only=list(tables))
        found: dict[str, list[object]] = {}
        for name, seeded in tables.items():
            table = metadata.tables[name]
            references = sorted({fk.parent.name for fk in table.foreign_keys} & set(seeded))
            query = (
                select(*[table.c[column] for column in references])
                if references
                else select(func.count()).select_from(table)
            )
            found[name] = sorted(tuple(row) for row in connection.execute(query).all())
        return found

    async def run() -> dict[str, list[object]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.mark.parametrize(
    "revision",
    [
        # 0007 recreates users on SQLite, 0008 synthesis_clusters,
        "0006",
        # 0010 synthesis_runs and synthesis_clusters (what runs, groups, memberships,
        # campaigns, edits and answers refer to)
        "0009",
    ],
)
def test_upgrading_and_downgrading_keep_every_row(blank_database_url: str, revision: str) -> None:
    url = blank_database_url
    upgrade(url, revision)
    seeded = seed_every_table(url)
    assert {"users", "contributions", "synthesis_runs", "synthesis_clusters"} <= set(seeded)
    before = stored_rows(url, seeded)
    assert all(before.values())

    upgrade(url)
    assert stored_rows(url, seeded) == before  # no row deleted, no reference emptied

    downgrade(url, revision)
    assert stored_rows(url, seeded) == before


def test_downgrading_the_copy_kinds_removes_repost_groups_and_their_copies(
    blank_database_url: str,
) -> None:
    url = blank_database_url
    upgrade(url)
    seeded = seed_every_table(url)

    def execute(statement: str) -> None:
        async def run() -> None:
            engine = create_engine(url)
            try:
                async with engine.begin() as connection:
                    await connection.exec_driver_sql(statement)
            finally:
                await engine.dispose()

        asyncio.run(run())

    execute("UPDATE synthesis_campaigns SET kind = 'repost'")
    downgrade(url, "0011")
    kept = stored_rows(url, seeded)
    assert kept["synthesis_campaigns"] == [] and kept["synthesis_campaign_members"] == []
    assert kept["synthesis_runs"] and kept["contributions"]
    upgrade(url)
    assert schema_differences(url) == []


def test_sqlite_refuses_to_copy_a_table_with_foreign_keys_enforced(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'enforced.sqlite3'}"

    def check(connection: Connection) -> None:
        connection.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        with pytest.raises(ForeignKeysStillEnforced):
            require_foreign_keys_off(connection)
        connection.commit()
        with sqlite_foreign_keys_off(connection):
            require_foreign_keys_off(connection)

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(check)
        finally:
            await engine.dispose()

    asyncio.run(run())
