"""vote counters: a contribution's counts moved by triggers on its votes, so that a vote is
one statement (docs/decisions/0043-vote-counters-by-trigger.md)

Revision ID: 0021_vote_counters_by_trigger
Revises: 0020_page_stamps
Create Date: 2026-12-06 22:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

from consult.contributions.vote_counters import create_statements, drop_statements

revision: str = "0021_vote_counters_by_trigger"
down_revision: str | None = "0020_page_stamps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The triggers as consult.contributions.vote_counters writes them at this revision; the
    # counts already stored are right (the application moved them until now) and stay.
    for statement in create_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    # Below this revision the application moves the counts itself.
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
