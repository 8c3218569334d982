"""reviewed synthesis: article groups and themes, per-target stances, drafts then publication

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db
from consult.migrate import require_foreign_keys_off


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Copies tables on SQLite: never with foreign keys enforced (consult.migrate).
    require_foreign_keys_off(op.get_bind())
    with op.batch_alter_table('synthesis_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stages', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('summary', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('published_at', consult.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_synthesis_runs_published_by_id_users'), 'users', ['published_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('synthesis_clusters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('targets', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('discussion_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('theme_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('summary', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('generic', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_synthesis_clusters_discussion_id_contributions'), 'contributions', ['discussion_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_synthesis_clusters_theme_id_synthesis_clusters'), 'synthesis_clusters', ['theme_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_column('votes_for')
        batch_op.drop_column('votes_mixed')
        batch_op.drop_column('votes_against')
        batch_op.drop_column('stances')

    # Runs computed before review existed were public as soon as they succeeded: they stay so.
    op.execute(
        "UPDATE synthesis_runs SET published_at = finished_at "
        "WHERE status = 'succeeded' AND published_at IS NULL"
    )


def downgrade() -> None:
    # Copies tables on SQLite: never with foreign keys enforced (consult.migrate).
    require_foreign_keys_off(op.get_bind())
    with op.batch_alter_table('synthesis_clusters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stances', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('votes_against', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('votes_mixed', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('votes_for', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_synthesis_clusters_theme_id_synthesis_clusters'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_synthesis_clusters_discussion_id_contributions'), type_='foreignkey')
        batch_op.drop_column('generic')
        batch_op.drop_column('summary')
        batch_op.drop_column('theme_id')
        batch_op.drop_column('discussion_id')
        batch_op.drop_column('targets')

    with op.batch_alter_table('synthesis_runs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_synthesis_runs_published_by_id_users'), type_='foreignkey')
        batch_op.drop_column('published_by_id')
        batch_op.drop_column('published_at')
        batch_op.drop_column('summary')
        batch_op.drop_column('stages')
