"""page stamps: per article, a count of the committed writes to what its page shows, kept by
triggers on the tables the page reads (docs/decisions/0036-page-stamps.md)

Revision ID: 0020_page_stamps
Revises: 0019_opinion_groups
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from consult.stamps import create_statements, drop_statements

revision: str = "0020_page_stamps"
down_revision: str | None = "0019_opinion_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "page_stamps",
        sa.Column("consultation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("article_key", sa.String(length=120), nullable=False),
        sa.Column("stripe", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("consultation_id", "article_key", "stripe"),
    )
    # The triggers as consult.stamps writes them at this revision; changing them later takes a
    # migration of its own that drops and recreates them. (On SQLite, a later migration that
    # copies a watched table to alter it must recreate its triggers: test_migrations checks
    # that every trigger is there at the head.)
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("page_stamps")
