"""participation requires: what an account must have shown to post or vote in a consultation

Revision ID: 0016_participation_requires
Revises: 0015_run_heartbeats
Create Date: 2026-12-05 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_participation_requires"
down_revision: str | None = "0015_run_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: existing consultations ask nothing more than an account.
    op.add_column(
        "consultations",
        sa.Column("participation_requires", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("consultations", "participation_requires")
