"""Change stamps kept by the database: one number per article that grows with every committed
write to what the article's page shows.

Triggers, not application code, count the writes (docs/decisions/0036-page-stamps.md): a write
path that forgets to say it changed something cannot exist, and a write made in SQL by hand
counts too. A page built after reading stamp S shows at least what was committed at S, so a
copy of it kept under S can be served to anyone who reads S again.

Each write adds one to a row of `page_stamps`: the article's (its contributions, its votes,
its imported tallies) or the consultation's, `article_key` '' (a new version, a synthesis
report that groups letters, the consultation itself). An article's stamp is the sum of both.
On PostgreSQL the rows are striped by server process (`STRIPES`) and the triggers are deferred
to the commit, so concurrent voters on one article rarely meet on one row, and when they do
they wait only for each other's commit; SQLite has one writer at a time and one stripe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, String, event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from consult.db import Base

STRIPES = 8
"""Rows per article on PostgreSQL: a transaction writes the stripe of its server process."""
WHOLE_CONSULTATION = ""
"""The `article_key` of the row that changes for every article of the consultation."""


class PageStamp(Base):
    """How many committed writes changed what an article page shows (one stripe of it)."""

    __tablename__ = "page_stamps"

    consultation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """No foreign key: a consultation's deletion is itself counted, after its rows are gone."""
    article_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    stripe: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    changes: Mapped[int] = mapped_column(BigInteger, default=0)


async def page_stamp(db: AsyncSession, consultation_id: int, article_key: str) -> int:
    """The article's stamp: read before anything else the page shows, so that what is read
    afterwards is at least as new as the stamp says."""
    total = await db.scalar(
        select(func.coalesce(func.sum(PageStamp.changes), 0)).where(
            PageStamp.consultation_id == consultation_id,
            PageStamp.article_key.in_((article_key, WHOLE_CONSULTATION)),
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class Watched:
    """A table whose rows the article page shows, and which stamps a row of it changes.

    `target` is a SELECT of (consultation_id, article_key) for the row named `{row}` (NEW or
    OLD); it may return no row (a referenced row already deleted: its own deletion counted).
    `changed_when`, if given, limits updates to those where it holds (OLD and NEW compared).
    """

    table: str
    target: str
    changed_when: str | None = None


WATCHED = (
    Watched("contributions", "SELECT {row}.consultation_id AS c, {row}.article_key AS k"),
    # Votes on contributions are shown through the contribution's counters (watched above);
    # votes on the article are counted in its tally.
    Watched(
        "votes",
        "SELECT {row}.consultation_id AS c, {row}.article_key AS k"
        " WHERE {row}.article_key IS NOT NULL",
    ),
    Watched("imported_article_votes", "SELECT {row}.consultation_id AS c, {row}.article_key AS k"),
    Watched("bill_versions", "SELECT {row}.consultation_id AS c, '' AS k"),
    Watched(
        "provisions",
        "SELECT consultation_id AS c, '' AS k FROM bill_versions WHERE id = {row}.version_id",
    ),
    # Passages found again on a later version: highlights and placements of every article.
    Watched(
        "contribution_anchors",
        "SELECT consultation_id AS c, '' AS k FROM bill_versions WHERE id = {row}.version_id",
    ),
    # The published report groups letters and reposts; a run's heartbeat changes nothing shown.
    Watched(
        "synthesis_runs",
        "SELECT {row}.consultation_id AS c, '' AS k",
        "OLD.status IS DISTINCT FROM NEW.status"
        " OR OLD.published_at IS DISTINCT FROM NEW.published_at"
        " OR OLD.consultation_id IS DISTINCT FROM NEW.consultation_id",
    ),
    Watched(
        "synthesis_campaigns",
        "SELECT consultation_id AS c, '' AS k FROM synthesis_runs WHERE id = {row}.run_id",
    ),
    Watched(
        "synthesis_campaign_members",
        "SELECT r.consultation_id AS c, '' AS k FROM synthesis_campaigns g"
        " JOIN synthesis_runs r ON r.id = g.run_id WHERE g.id = {row}.campaign_id",
    ),
    # Its title and address are on every page (its phases are read with each request).
    Watched("consultations", "SELECT {row}.id AS c, '' AS k"),
)


def _sqlite_is_distinct(condition: str) -> str:
    return condition.replace("IS DISTINCT FROM", "IS NOT")


def _sqlite_bump(target: str) -> str:
    return (
        "INSERT INTO page_stamps (consultation_id, article_key, stripe, changes)"  # noqa: S608  (constants)
        f" SELECT c, k, 0, 1 FROM ({target}) WHERE true"
        " ON CONFLICT (consultation_id, article_key, stripe)"
        " DO UPDATE SET changes = changes + 1;"
    )


def sqlite_statements() -> list[str]:
    """One trigger per table and event (SQLite has no deferred triggers: one writer at a time)."""
    statements = []
    for watched in WATCHED:
        new, old = (watched.target.format(row=row) for row in ("NEW", "OLD"))
        both = f"{new} UNION {old}"
        when = f" WHEN {_sqlite_is_distinct(watched.changed_when)}" if watched.changed_when else ""
        for event_name, target, condition in (
            ("insert", new, ""),
            ("update", both, when),
            ("delete", old, ""),
        ):
            statements.append(
                f"CREATE TRIGGER page_stamp_{watched.table}_{event_name}"
                f" AFTER {event_name.upper()} ON {watched.table}{condition}"
                f" BEGIN {_sqlite_bump(target)} END"
            )
    return statements


def _postgresql_bump(target: str) -> str:
    return (
        "INSERT INTO page_stamps AS s (consultation_id, article_key, stripe, changes)"  # noqa: S608  (constants)
        f" SELECT t.c, t.k, pg_backend_pid() % {STRIPES}, 1 FROM ({target}) AS t"
        " ON CONFLICT (consultation_id, article_key, stripe)"
        " DO UPDATE SET changes = s.changes + 1;"
    )


def postgresql_statements() -> list[str]:
    """A function per table and a constraint trigger deferred to the commit, so the stamp's
    row is locked only while the transaction commits."""
    statements = []
    for watched in WATCHED:
        new, old = (watched.target.format(row=row) for row in ("NEW", "OLD"))
        function = f"page_stamp_{watched.table}"
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP = 'INSERT' THEN {_postgresql_bump(new)}\n"
            f"  ELSIF TG_OP = 'DELETE' THEN {_postgresql_bump(old)}\n"
            f"  ELSE {_postgresql_bump(f'{new} UNION {old}')}\n"
            "  END IF;\n"
            "  RETURN NULL;\n"
            "END $$"
        )
        deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
        if watched.changed_when:
            statements += [
                f"CREATE CONSTRAINT TRIGGER {function}_write AFTER INSERT OR DELETE"
                f" ON {watched.table} {deferred} EXECUTE FUNCTION {function}()",
                f"CREATE CONSTRAINT TRIGGER {function}_update AFTER UPDATE"
                f" ON {watched.table} {deferred} WHEN ({watched.changed_when})"
                f" EXECUTE FUNCTION {function}()",
            ]
        else:
            statements.append(
                f"CREATE CONSTRAINT TRIGGER {function} AFTER INSERT OR UPDATE OR DELETE"
                f" ON {watched.table} {deferred} EXECUTE FUNCTION {function}()"
            )
    return statements


def create_statements(dialect: str) -> list[str]:
    """The triggers that keep `page_stamps`, for `dialect` ('sqlite' or 'postgresql')."""
    return postgresql_statements() if dialect == "postgresql" else sqlite_statements()


def drop_statements(dialect: str) -> list[str]:
    """What `create_statements` made, removed (the table itself is dropped on its own)."""
    statements = []
    for watched in WATCHED:
        if dialect == "postgresql":
            # Dropping the function drops its triggers.
            statements.append(f"DROP FUNCTION IF EXISTS page_stamp_{watched.table}() CASCADE")
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS page_stamp_{watched.table}_{event_name}"
                for event_name in ("insert", "update", "delete")
            ]
    return statements


def create_triggers(connection: Connection) -> None:
    """Install the triggers on a database whose tables exist."""
    for statement in create_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


@event.listens_for(Base.metadata, "after_create")
def _after_create(_metadata: object, connection: Connection, **kw: Any) -> None:
    # A schema built from the models (tests on SQLite) gets the triggers the migrations make.
    if any(table.name == PageStamp.__tablename__ for table in kw.get("tables", ())):
        create_triggers(connection)
