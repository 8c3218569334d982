"""A contribution's vote counters, moved by the database whenever one of its votes is written.

Each contribution carries its counts (`votes_for`, `votes_mixed`, `votes_against`): lists sort
and filter by them, and an imported contribution starts from the counts of the platform it
came from. Triggers on `votes` move them (docs/decisions/0043-vote-counters-by-trigger.md):
a vote is then one statement (an insert that becomes an update when the person already voted,
or a delete), with no lock taken first and no read of the vote it replaces, and the counts
follow every vote row written, through the site or not. On PostgreSQL the trigger's update
waits for any other transaction changing the same contribution's counts, and each sees the
other's result: concurrent voters never lose a count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection

from consult.contributions.models import Vote, VoteValue
from consult.db import Base

COUNTER = {
    VoteValue.FOR: "votes_for",
    VoteValue.MIXED: "votes_mixed",
    VoteValue.AGAINST: "votes_against",
}
"""The contribution's column that counts each value."""

_FUNCTION = "count_contribution_votes"


def _moved(new: str | None, old: str | None, as_integer: str) -> str:
    """`votes_x = votes_x + (NEW is x) - (OLD is x)` for each counter, as asked."""
    terms = []
    for value, column in COUNTER.items():
        change = column
        for row, sign in ((new, "+"), (old, "-")):
            if row:
                change += f" {sign} " + as_integer.format(f"{row}.value = '{value.value}'")
        terms.append(f"{column} = {change}")
    return ", ".join(terms)


def _update(new: str | None, old: str | None, as_integer: str) -> str:
    """The update of the contribution of `new` (else `old`) that moves its counters."""
    counters = _moved(new, old, as_integer)
    row = new or old
    return f"UPDATE contributions SET {counters} WHERE id = {row}.contribution_id;"  # noqa: S608


def postgresql_statements() -> list[str]:
    """One function; an insert or a delete moves one count, a change of value moves two in
    one update of the row."""
    as_integer = "CAST(({}) AS integer)"
    return [
        f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        "    IF NEW.contribution_id IS NOT NULL THEN\n"
        f"      {_update('NEW', None, as_integer)}\n"
        "    END IF;\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        "    IF OLD.contribution_id IS NOT NULL THEN\n"
        f"      {_update(None, 'OLD', as_integer)}\n"
        "    END IF;\n"
        "  ELSIF OLD.contribution_id IS NOT DISTINCT FROM NEW.contribution_id THEN\n"
        "    IF NEW.contribution_id IS NOT NULL THEN\n"
        f"      {_update('NEW', 'OLD', as_integer)}\n"
        "    END IF;\n"
        "  ELSE\n"
        "    IF OLD.contribution_id IS NOT NULL THEN\n"
        f"      {_update(None, 'OLD', as_integer)}\n"
        "    END IF;\n"
        "    IF NEW.contribution_id IS NOT NULL THEN\n"
        f"      {_update('NEW', None, as_integer)}\n"
        "    END IF;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$",
        f"CREATE TRIGGER {_FUNCTION}_write AFTER INSERT OR DELETE ON votes"
        f" FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()",
        f"CREATE TRIGGER {_FUNCTION}_change AFTER UPDATE ON votes FOR EACH ROW"
        " WHEN (OLD.value IS DISTINCT FROM NEW.value"
        " OR OLD.contribution_id IS DISTINCT FROM NEW.contribution_id)"
        f" EXECUTE FUNCTION {_FUNCTION}()",
    ]


def sqlite_statements() -> list[str]:
    """A trigger per event (a comparison is already 0 or 1 in SQLite)."""
    as_integer = "({})"
    changed = "OLD.value IS NOT NEW.value OR OLD.contribution_id IS NOT NEW.contribution_id"
    return [
        f"CREATE TRIGGER {_FUNCTION}_insert AFTER INSERT ON votes"
        " WHEN NEW.contribution_id IS NOT NULL"
        f" BEGIN {_update('NEW', None, as_integer)} END",
        f"CREATE TRIGGER {_FUNCTION}_delete AFTER DELETE ON votes"
        " WHEN OLD.contribution_id IS NOT NULL"
        f" BEGIN {_update(None, 'OLD', as_integer)} END",
        f"CREATE TRIGGER {_FUNCTION}_update AFTER UPDATE ON votes WHEN {changed}"
        f" BEGIN {_update(None, 'OLD', as_integer)}"
        f" {_update('NEW', None, as_integer)} END",
    ]


def create_statements(dialect: str) -> list[str]:
    """The triggers that keep the counters, for `dialect` ('sqlite' or 'postgresql')."""
    return postgresql_statements() if dialect == "postgresql" else sqlite_statements()


def drop_statements(dialect: str) -> list[str]:
    """What `create_statements` made, removed."""
    if dialect == "postgresql":
        return [f"DROP FUNCTION IF EXISTS {_FUNCTION}() CASCADE"]  # its triggers with it
    return [
        f"DROP TRIGGER IF EXISTS {_FUNCTION}_{event_name}"
        for event_name in ("insert", "delete", "update")
    ]


@event.listens_for(Base.metadata, "after_create")
def _after_create(_metadata: object, connection: Connection, **kw: Any) -> None:
    # A schema built from the models (tests on SQLite) gets the triggers the migrations make.
    if any(table.name == Vote.__tablename__ for table in kw.get("tables", ())):
        for statement in create_statements(connection.dialect.name):
            connection.exec_driver_sql(statement)
