"""imported article votes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('imported_article_votes',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('article_key', sa.String(length=120), nullable=False),
    sa.Column('votes_for', sa.Integer(), nullable=False),
    sa.Column('votes_mixed', sa.Integer(), nullable=False),
    sa.Column('votes_against', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_imported_article_votes_consultation_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('consultation_id', 'article_key', name=op.f('pk_imported_article_votes'))
    )


def downgrade() -> None:
    op.drop_table('imported_article_votes')
