"""contributions and votes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:23:20.773039
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('article_key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('annotation', 'amendment', 'argument', 'reply', 'source', name='contribution_kind'), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('root_id', sa.Integer(), nullable=True),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('stance', sa.Enum('pour', 'contre', 'neutre', name='argument_stance'), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('alinea', sa.Integer(), nullable=True),
    sa.Column('quote_exact', sa.Text(), nullable=True),
    sa.Column('quote_prefix', sa.String(length=64), nullable=False),
    sa.Column('quote_suffix', sa.String(length=64), nullable=False),
    sa.Column('quote_start', sa.Integer(), nullable=True),
    sa.Column('quote_end', sa.Integer(), nullable=True),
    sa.Column('operation', sa.String(length=32), nullable=True),
    sa.Column('old_text', sa.Text(), nullable=False),
    sa.Column('occurrence', sa.Integer(), nullable=False),
    sa.Column('new_text', sa.Text(), nullable=False),
    sa.Column('span_scope', sa.String(length=16), nullable=True),
    sa.Column('span_start', sa.Integer(), nullable=True),
    sa.Column('span_end', sa.Integer(), nullable=True),
    sa.Column('visibility', sa.Enum('visible', 'hidden', name='contribution_visibility'), nullable=False),
    sa.Column('hidden_reason', sa.Text(), nullable=False),
    sa.Column('votes_for', sa.Integer(), nullable=False),
    sa.Column('votes_mixed', sa.Integer(), nullable=False),
    sa.Column('votes_against', sa.Integer(), nullable=False),
    sa.Column('external_ref', sa.String(length=120), nullable=True),
    sa.Column('author_pseudonym', sa.String(length=80), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('depth >= 0 AND depth <= 3', name=op.f('ck_contributions_thread_depth')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_contributions_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_contributions_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['contributions.id'], name=op.f('fk_contributions_parent_id_contributions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['root_id'], ['contributions.id'], name=op.f('fk_contributions_root_id_contributions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['bill_versions.id'], name=op.f('fk_contributions_version_id_bill_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contributions')),
    sa.UniqueConstraint('consultation_id', 'external_ref', name=op.f('uq_contributions_consultation_id_external_ref'))
    )
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.create_index('ix_contributions_article', ['consultation_id', 'article_key', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributions_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributions_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributions_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributions_root_id'), ['root_id'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('article_key', sa.String(length=120), nullable=True),
    sa.Column('contribution_id', sa.Integer(), nullable=True),
    sa.Column('value', sa.Enum('pour', 'mitige', 'contre', name='vote_value'), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(article_key IS NULL AND contribution_id IS NOT NULL) OR (article_key IS NOT NULL AND contribution_id IS NULL)', name=op.f('ck_votes_one_target')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_votes_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contribution_id'], ['contributions.id'], name=op.f('fk_votes_contribution_id_contributions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['users.id'], name=op.f('fk_votes_voter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('voter_id', 'consultation_id', 'article_key', name='uq_votes_voter_article'),
    sa.UniqueConstraint('voter_id', 'contribution_id', name='uq_votes_voter_contribution')
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_article', ['consultation_id', 'article_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_votes_contribution_id'), ['contribution_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_contribution_id'))
        batch_op.drop_index('ix_votes_article')

    op.drop_table('votes')
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contributions_root_id'))
        batch_op.drop_index(batch_op.f('ix_contributions_parent_id'))
        batch_op.drop_index(batch_op.f('ix_contributions_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_contributions_author_id'))
        batch_op.drop_index('ix_contributions_article')

    op.drop_table('contributions')
    # PostgreSQL keeps enum types after their tables are dropped.
    for enum_name in ("vote_value", "contribution_visibility", "argument_stance", "contribution_kind"):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
