"""opinion groups stored with each synthesis run: group sizes, and how the groups voted on each
article and contribution (counts only)

Revision ID: 0019_opinion_groups
Revises: 0018_questionnaires
Create Date: 2026-12-06 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db

revision: str = "0019_opinion_groups"
down_revision: str | None = "0018_questionnaires"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "synthesis_opinions",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("targets", sa.Integer(), nullable=False),
        sa.Column("silhouette", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("min_participant_votes", sa.Integer(), nullable=False),
        sa.Column("min_target_votes", sa.Integer(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["synthesis_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "synthesis_opinion_targets",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("division_rank", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("agrees", sa.Integer(), nullable=False),
        sa.Column("disagrees", sa.Integer(), nullable=False),
        sa.Column("consensus", sa.Float(), nullable=False),
        sa.Column("rejection", sa.Float(), nullable=False),
        sa.Column("division", sa.Float(), nullable=False),
        sa.Column("group_votes", sa.JSON(), nullable=False),
        sa.Column("group_agrees", sa.JSON(), nullable=False),
        sa.Column("group_disagrees", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["synthesis_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "rank"),
    )
    op.create_index(
        "ix_synthesis_opinion_targets_contribution",
        "synthesis_opinion_targets",
        ["run_id", "contribution_id"],
    )
    op.create_index(
        "ix_synthesis_opinion_targets_division",
        "synthesis_opinion_targets",
        ["run_id", "division_rank"],
    )


def downgrade() -> None:
    op.drop_index("ix_synthesis_opinion_targets_division", "synthesis_opinion_targets")
    op.drop_index("ix_synthesis_opinion_targets_contribution", "synthesis_opinion_targets")
    op.drop_table("synthesis_opinion_targets")
    op.drop_table("synthesis_opinions")
