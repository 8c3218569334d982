"""synthesis runs fix their input: the contributions' ids and when they were fixed

Revision ID: 0015_run_heartbeats
Revises: 0014_copy_kinds
Create Date: 2026-12-05 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db

revision: str = "0015_run_heartbeats"
down_revision: str | None = "0014_copy_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite): the rows of the run's results, which point
    # at it with ON DELETE CASCADE, stay as they are.
    op.add_column("synthesis_runs", sa.Column("input_ids", sa.JSON(), nullable=True))
    op.add_column(
        "synthesis_runs",
        sa.Column("input_fixed_at", consult.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    # DROP COLUMN in place (SQLite 3.35 and later) rather than a batch copy of the table, which
    # would delete the runs' results through their ON DELETE CASCADE.
    op.execute("ALTER TABLE synthesis_runs DROP COLUMN input_fixed_at")
    op.execute("ALTER TABLE synthesis_runs DROP COLUMN input_ids")
