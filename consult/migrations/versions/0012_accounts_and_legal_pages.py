"""accounts: links sent by email, logins recorded for retention, second factors; identity links; legal pages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_path', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_links'))
    )
    op.create_index('ix_account_links_user_purpose', 'account_links', ['user_id', 'purpose', 'created_at'], unique=False)
    # A plain ADD COLUMN: on SQLite a batch operation would copy the users table, and the
    # tables that reference it with ON DELETE CASCADE would lose their rows.
    op.add_column('users', sa.Column('awaiting_confirmation_since', consult.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('last_login_at', consult.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('inactivity_warned_at', consult.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_confirmed_at', consult.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('used_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    op.create_index(op.f('ix_recovery_codes_user_id'), 'recovery_codes', ['user_id'], unique=False)
    op.create_table('identity_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_identity_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_links')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_identity_links_issuer_subject'))
    )
    op.create_index(op.f('ix_identity_links_user_id'), 'identity_links', ['user_id'], unique=False)
    op.create_table('legal_pages',
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_legal_pages_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', 'language', name=op.f('pk_legal_pages'))
    )


def downgrade() -> None:
    op.drop_table('legal_pages')
    op.drop_index(op.f('ix_identity_links_user_id'), table_name='identity_links')
    op.drop_table('identity_links')
    op.drop_index(op.f('ix_recovery_codes_user_id'), table_name='recovery_codes')
    op.drop_table('recovery_codes')
    op.drop_column('users', 'totp_last_step')
    op.drop_column('users', 'totp_confirmed_at')
    op.drop_column('users', 'totp_secret')
    op.drop_column('users', 'inactivity_warned_at')
    op.drop_column('users', 'last_login_at')
    op.drop_column('users', 'awaiting_confirmation_since')
    op.drop_index('ix_account_links_user_purpose', table_name='account_links')
    op.drop_table('account_links')
