"""embeddings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 01:01:18.780125
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('embeddings',
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('model_id', 'content_hash', name=op.f('pk_embeddings'))
    )


def downgrade() -> None:
    op.drop_table('embeddings')
