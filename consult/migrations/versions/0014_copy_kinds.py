"""copy kinds: a group of copies is a campaign (many authors) or a repost group (one author)

Revision ID: 0014_copy_kinds
Revises: 0013_organisations
Create Date: 2026-12-06 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014_copy_kinds'
down_revision: str | None = '0013_organisations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on every database (SQLite supports it with a constant default): the
    # table is not recreated, so nothing pointing at it is touched. Groups stored before this
    # revision were campaigns only.
    op.add_column(
        'synthesis_campaigns',
        sa.Column(
            'kind',
            sa.Enum('campaign', 'repost', name='copykind', native_enum=False, length=16),
            server_default='campaign',
            nullable=False,
        ),
    )


def downgrade() -> None:
    # Repost groups did not exist before this revision: they go, with what refers to them
    # (foreign keys are not enforced while SQLite migrates, so nothing cascades by itself).
    reposts = "SELECT id FROM synthesis_campaigns WHERE kind = 'repost'"
    op.execute(f"DELETE FROM synthesis_campaign_members WHERE campaign_id IN ({reposts})")
    op.execute(f"UPDATE answers SET campaign_id = NULL WHERE campaign_id IN ({reposts})")
    op.execute("DELETE FROM synthesis_campaigns WHERE kind = 'repost'")
    # SQLite drops a column in place (3.35 and later) when nothing refers to it.
    op.drop_column('synthesis_campaigns', 'kind')
