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


def test_fixing_run_inputs_keeps_existing_runs_and_their_results(blank_database_url: str) -> None:
    """The columns a run's input is fixed in are added and dropped in place: stored runs, and
    the groups pointing at them with ON DELETE CASCADE, stay, down to 0011 and up again."""
    from sqlalchemy import func, select

    from consult.accounts.models import Role
    from consult.accounts.services import create_user
    from consult.consultations.models import Phase
    from consult.consultations.services import create_consultation
    from consult.db import create_session_factory, utcnow
    from consult.synthesis.models import RunStatus, SynthesisCluster, SynthesisRun

    url = blank_database_url
    upgrade(url)

    async def seed() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                owner = await create_user(session, "o@example.org", "O", "x" * 12, Role.OFFICIAL)
                consultation = await create_consultation(
                    session,
                    slug="c",
                    title="C",
                    summary="",
                    ministry="",
                    owner=owner,
                    phase_starts={Phase.OPEN: utcnow()},
                )
                run = SynthesisRun(consultation_id=consultation.id, status=RunStatus.SUCCEEDED)
                session.add(run)
                await session.flush()
                session.add(SynthesisCluster(run_id=run.id, scope="", position=0, title="T"))
                await session.commit()
        finally:
            await engine.dispose()

    async def counts() -> tuple[int, int]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                runs = await connection.scalar(select(func.count()).select_from(SynthesisRun))
                groups = await connection.scalar(select(func.count()).select_from(SynthesisCluster))
                return int(runs or 0), int(groups or 0)
        finally:
            await engine.dispose()

    asyncio.run(seed())
    downgrade(url, "0011")
    assert asyncio.run(counts()) == (1, 1)
    upgrade(url)
    assert asyncio.run(counts()) == (1, 1)
    assert schema_differences(url) == []
