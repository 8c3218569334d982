"""Alembic migrations: up, down and up again, and they match the models exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, inspect, text

import consult.models  # noqa: F401
from consult.db import Base, UTCDateTime, create_engine
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


# --- organisations: an upgraded site keeps its consultations and who acts on them -----------

EARLIER = "0011"  # the revision before consultations belonged to organisations
SEEDED_AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _run_sql(url: str, statements: list[tuple[str, dict[str, object]]]) -> None:
    async def write() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                for statement, parameters in statements:
                    query = text(statement)
                    if "at" in parameters:
                        query = query.bindparams(bindparam("at", type_=UTCDateTime()))
                    await connection.execute(query, parameters)
        finally:
            await engine.dispose()

    asyncio.run(write())


def _select(url: str, statement: str) -> list[tuple[object, ...]]:
    async def read() -> list[tuple[object, ...]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return [tuple(row) for row in await connection.execute(text(statement))]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _counts(url: str, tables: set[str]) -> dict[str, int]:
    return {
        table: int(_select(url, f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608
        for table in sorted(tables - {"alembic_version"})
    }


def _seed_before_organisations(url: str) -> None:
    """Two ministries' consultations, one naming none, with what hangs on a consultation."""
    user = (
        "INSERT INTO users (id, email, display_name, role, verification_level, language, "
        "notify_answers, created_at) VALUES (:id, :email, :name, :role, 0, 'fr', :yes, :at)"
    )
    consultation = (
        "INSERT INTO consultations (id, slug, title, summary, ministry, owner_id, languages, "
        "created_at) VALUES (:id, :slug, :title, '', :ministry, :owner, '[\"fr\"]', :at)"
    )
    phase = (
        "INSERT INTO consultation_phases (consultation_id, phase, starts_at) "
        "VALUES (:consultation, 'open', :at)"
    )
    version = (
        "INSERT INTO bill_versions (id, consultation_id, number, explanatory_memorandum, "
        "source_text, source_format, published_by_id, published_at) "
        "VALUES (:id, :consultation, 1, '', 'Article 1er', 'markdown', :owner, :at)"
    )
    provision = (
        "INSERT INTO provisions (version_id, kind, key, number, label, heading, text, "
        "position, depth) VALUES (:version, 'article', 'art-1', '1er', 'Article', '', "
        "'Texte.', 0, 0)"
    )
    at = {"at": SEEDED_AT, "yes": True}
    statements: list[tuple[str, dict[str, object]]] = [
        (user, {**at, "id": 1, "email": "culture@example.org", "name": "C", "role": "official"}),
        (user, {**at, "id": 2, "email": "modo@example.org", "name": "M", "role": "moderator"}),
        (user, {**at, "id": 3, "email": "reader@example.org", "name": "R", "role": "citizen"}),
        (user, {**at, "id": 4, "email": "admin@example.org", "name": "A", "role": "admin"}),
    ]
    ministries = [
        "Ministère de la Culture",
        "Ministère de la Culture",
        "Ministère de l’Intérieur",
        "",
    ]
    for number, ministry in enumerate(ministries, start=1):
        statements += [
            (
                consultation,
                {
                    **at,
                    "id": number,
                    "slug": f"c-{number}",
                    "title": f"C {number}",
                    "ministry": ministry,
                    "owner": 1,
                },
            ),
            (phase, {**at, "consultation": number}),
            (version, {**at, "id": number, "consultation": number, "owner": 1}),
            (provision, {"version": number}),
        ]
    _run_sql(url, statements)


def test_consultations_and_what_hangs_on_them_survive_the_organisations_upgrade(
    blank_database_url: str,
) -> None:
    url = blank_database_url
    upgrade(url, EARLIER)
    _seed_before_organisations(url)
    before = _counts(url, table_names(url))

    upgrade(url)

    after = _counts(url, table_names(url))
    assert {table: after[table] for table in before} == before
    assert before["consultation_phases"] == before["provisions"] == 4
    organisations = sorted(_select(url, "SELECT id, name, slug FROM organisations"))
    assert sorted((name, slug) for _id, name, slug in organisations) == [
        ("Ministère de la Culture", "ministere-de-la-culture"),
        ("Ministère de l’Intérieur", "ministere-de-l-interieur"),
        ("Organisation", "organisation"),
    ]
    ids = {name: organisation_id for organisation_id, name, _slug in organisations}
    held = _select(url, "SELECT slug, organisation_id FROM consultations ORDER BY slug")
    assert held == [
        ("c-1", ids["Ministère de la Culture"]),
        ("c-2", ids["Ministère de la Culture"]),
        ("c-3", ids["Ministère de l’Intérieur"]),
        ("c-4", ids["Organisation"]),
    ]
    # The official and the moderator act on every consultation they acted on before; citizens
    # and administrators (who act everywhere) are members of none.
    members = _select(
        url, "SELECT user_id, count(*) FROM organisation_members GROUP BY user_id ORDER BY user_id"
    )
    assert members == [(1, 3), (2, 3)]
    assert schema_differences(url) == []

    downgrade(url, EARLIER)
    assert _counts(url, table_names(url)) == before
