"""moderation: reports, the public moderation log, suspended accounts, contributions hidden
pending review

Revision ID: 0017_moderation
Revises: 0016_participation_requires
Create Date: 2026-12-05 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db

revision: str = "0017_moderation"
down_revision: str | None = "0016_participation_requires"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite): the rows pointing at contributions with
    # ON DELETE CASCADE (votes, replies, answers' coverage) stay as they are.
    op.add_column(
        "contributions",
        sa.Column("pending_review", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "contribution_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("created_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", consult.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contribution_id"], ["contributions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "contribution_id", "reporter_id", name="uq_reports_contribution_reporter"
        ),
    )
    op.create_index(
        "ix_reports_consultation", "contribution_reports", ["consultation_id", "reviewed_at"]
    )
    op.create_index(
        "ix_contribution_reports_contribution_id", "contribution_reports", ["contribution_id"]
    )
    op.create_table(
        "moderation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contribution_id"], ["contributions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["account_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_moderation_events_consultation", "moderation_events", ["consultation_id", "created_at"]
    )
    op.create_index(
        "ix_moderation_events_contribution_id", "moderation_events", ["contribution_id"]
    )
    op.create_index("ix_moderation_events_account_id", "moderation_events", ["account_id"])
    op.create_table(
        "account_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", consult.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("review_requested_at", consult.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_request", sa.Text(), nullable=False),
        sa.Column("lifted_at", consult.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_suspensions_user", "account_suspensions", ["user_id", "lifted_at"])
    op.create_index(
        "ix_account_suspensions_consultation_id", "account_suspensions", ["consultation_id"]
    )


def downgrade() -> None:
    op.drop_table("account_suspensions")
    op.drop_table("moderation_events")
    op.drop_table("contribution_reports")
    # DROP COLUMN in place (SQLite 3.35 and later) rather than a batch copy of the table, which
    # would delete the contributions' votes and replies through their ON DELETE CASCADE.
    op.execute("ALTER TABLE contributions DROP COLUMN pending_review")
