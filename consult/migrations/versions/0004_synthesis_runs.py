"""synthesis runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 02:17:25.044367
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('synthesis_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'succeeded', 'failed', name='runstatus', native_enum=False, length=16), nullable=False),
    sa.Column('stage', sa.Enum('queued', 'loading', 'embedding', 'campaigns', 'clustering', 'saving', 'done', name='runstage', native_enum=False, length=16), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('input_hash', sa.String(length=64), nullable=False),
    sa.Column('contribution_count', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_synthesis_runs_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_synthesis_runs_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synthesis_runs'))
    )
    with op.batch_alter_table('synthesis_runs', schema=None) as batch_op:
        batch_op.create_index('ix_synthesis_runs_consultation_status', ['consultation_id', 'status'], unique=False)

    op.create_table('synthesis_clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('contributions', sa.Integer(), nullable=False),
    sa.Column('votes_for', sa.Integer(), nullable=False),
    sa.Column('votes_mixed', sa.Integer(), nullable=False),
    sa.Column('votes_against', sa.Integer(), nullable=False),
    sa.Column('stances', sa.JSON(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('quotes', sa.JSON(), nullable=False),
    sa.Column('amendments', sa.JSON(), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('y', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['synthesis_runs.id'], name=op.f('fk_synthesis_clusters_run_id_synthesis_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synthesis_clusters')),
    sa.UniqueConstraint('run_id', 'scope', 'position', name=op.f('uq_synthesis_clusters_run_id_scope_position'))
    )
    with op.batch_alter_table('synthesis_clusters', schema=None) as batch_op:
        batch_op.create_index('ix_synthesis_clusters_run_scope', ['run_id', 'scope'], unique=False)

    op.create_table('synthesis_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('representative_id', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('exact_copies', sa.Integer(), nullable=False),
    sa.Column('distinct_authors', sa.Integer(), nullable=False),
    sa.Column('first_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('article_keys', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['representative_id'], ['contributions.id'], name=op.f('fk_synthesis_campaigns_representative_id_contributions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['synthesis_runs.id'], name=op.f('fk_synthesis_campaigns_run_id_synthesis_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synthesis_campaigns')),
    sa.UniqueConstraint('run_id', 'position', name=op.f('uq_synthesis_campaigns_run_id_position'))
    )
    op.create_table('synthesis_memberships',
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.Column('contribution_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('y', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['synthesis_clusters.id'], name=op.f('fk_synthesis_memberships_cluster_id_synthesis_clusters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_synthesis_memberships_contribution_id_contributions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['synthesis_runs.id'], name=op.f('fk_synthesis_memberships_run_id_synthesis_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cluster_id', 'contribution_id', name=op.f('pk_synthesis_memberships'))
    )
    with op.batch_alter_table('synthesis_memberships', schema=None) as batch_op:
        batch_op.create_index('ix_synthesis_memberships_run_contribution', ['run_id', 'contribution_id'], unique=False)

    op.create_table('synthesis_campaign_members',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('contribution_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['synthesis_campaigns.id'], name=op.f('fk_synthesis_campaign_members_campaign_id_synthesis_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_synthesis_campaign_members_contribution_id_contributions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'contribution_id', name=op.f('pk_synthesis_campaign_members'))
    )
    with op.batch_alter_table('synthesis_campaign_members', schema=None) as batch_op:
        batch_op.create_index('ix_synthesis_campaign_members_contribution', ['contribution_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('synthesis_campaign_members', schema=None) as batch_op:
        batch_op.drop_index('ix_synthesis_campaign_members_contribution')

    op.drop_table('synthesis_campaign_members')
    with op.batch_alter_table('synthesis_memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_synthesis_memberships_run_contribution')

    op.drop_table('synthesis_memberships')
    op.drop_table('synthesis_campaigns')
    with op.batch_alter_table('synthesis_clusters', schema=None) as batch_op:
        batch_op.drop_index('ix_synthesis_clusters_run_scope')

    op.drop_table('synthesis_clusters')
    with op.batch_alter_table('synthesis_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_synthesis_runs_consultation_status')

    op.drop_table('synthesis_runs')
