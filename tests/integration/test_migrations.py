"""Alembic migrations: up, down and up again, and they match the models exactly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    MetaData,
    Table,
    bindparam,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

import consult.models  # noqa: F401
from consult.db import Base, UTCDateTime, create_engine
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
    downgrade(url, "0013_organisations")  # the revision before the copy kinds
    # Tables of later revisions are gone with them; the others keep their rows.
    present = table_names(url)
    kept = stored_rows(url, {name: row for name, row in seeded.items() if name in present})
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


def test_fixing_run_inputs_keeps_existing_runs_and_their_results(blank_database_url: str) -> None:
    """The columns a run's input is fixed in are added and dropped in place: stored runs, and
    the groups pointing at them with ON DELETE CASCADE, stay, down to the copy kinds and up."""
    from sqlalchemy import func, select

    from consult.accounts.models import Role
    from consult.accounts.services import create_user
    from consult.consultations.models import Phase
    from consult.consultations.services import create_consultation
    from consult.db import create_session_factory, utcnow
    from consult.organisations.models import Organisation
    from consult.synthesis.models import RunStatus, SynthesisCluster, SynthesisRun

    url = blank_database_url
    upgrade(url)

    async def seed() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                owner = await create_user(session, "o@example.org", "O", "x" * 12, Role.ADMIN)
                ministry = Organisation(name="Ministère", slug="ministere")
                session.add(ministry)
                await session.flush()
                consultation = await create_consultation(
                    session,
                    slug="c",
                    title="C",
                    summary="",
                    ministry="",
                    owner=owner,
                    phase_starts={Phase.OPEN: utcnow()},
                    organisation=ministry,
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
    downgrade(url, "0014_copy_kinds")
    assert asyncio.run(counts()) == (1, 1)
    upgrade(url)
    assert asyncio.run(counts()) == (1, 1)
    assert schema_differences(url) == []


# --- page stamps: the triggers that keep them come and go with their migration -------------


def _page_stamp_triggers(url: str, prefix: str = "page_stamp_") -> set[str]:
    """The tables that have a trigger named `prefix`..., as the database lists them."""
    if url.startswith("sqlite"):
        rows = _select(
            url,
            f"SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '{prefix}%'",  # noqa: S608
        )
    else:
        rows = _select(
            url,
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"  # noqa: S608
            f" WHERE t.tgname LIKE '{prefix}%'",
        )
    return {str(row[0]) for row in rows}


def test_the_page_stamp_triggers_are_there_at_the_head_and_gone_below_it(
    blank_database_url: str,
) -> None:
    from consult.stamps import WATCHED

    url = blank_database_url
    upgrade(url, EARLIER)
    _seed_before_organisations(url)
    upgrade(url)
    # Every watched table keeps its trigger at the head: on SQLite, a later migration that
    # copies one of these tables to alter it would drop them silently.
    assert _page_stamp_triggers(url) == {watched.table for watched in WATCHED}
    rename = "UPDATE consultations SET title = :title WHERE id = 2"
    _run_sql(url, [(rename, {"title": "Autre"})])
    assert _select(url, "SELECT consultation_id, article_key, changes FROM page_stamps") == [
        (2, "", 1)
    ]

    downgrade(url, "0019_opinion_groups")
    assert _page_stamp_triggers(url) == set()
    assert "page_stamps" not in table_names(url)
    _run_sql(url, [(rename, {"title": "Encore"})])  # nothing left to count it

    upgrade(url)
    assert _page_stamp_triggers(url) == {watched.table for watched in WATCHED}
    _run_sql(url, [(rename, {"title": "Toujours"})])
    assert _select(url, "SELECT consultation_id, article_key, changes FROM page_stamps") == [
        (2, "", 1)
    ]


def test_the_vote_counter_triggers_come_and_go_with_their_migration(
    blank_database_url: str,
) -> None:
    url = blank_database_url
    upgrade(url)
    # SQLite: a later migration that copies `votes` to alter it would drop them silently.
    assert _page_stamp_triggers(url, "count_contribution_votes") == {"votes"}
    downgrade(url, "0020_page_stamps")
    assert _page_stamp_triggers(url, "count_contribution_votes") == set()
    upgrade(url)
    assert _page_stamp_triggers(url, "count_contribution_votes") == {"votes"}
