"""Alembic migrations: up, down and up again, and they match the models exactly."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import consult.models  # noqa: F401
from consult.db import Base, create_engine
from consult.migrate import downgrade, upgrade

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
