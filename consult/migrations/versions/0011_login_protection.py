"""login protection: paused logins, spent form tokens, account notices, claimed emails

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 20:07:33.127264
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import consult.db
from consult.migrate import require_foreign_keys_off


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('email_digest', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paused_until', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('owner_warned_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('email_digest', name=op.f('pk_login_failures'))
    )
    op.create_table('spent_form_tokens',
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('expires_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_id', name=op.f('pk_spent_form_tokens'))
    )
    with op.batch_alter_table('spent_form_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spent_form_tokens_expires_at'), ['expires_at'], unique=False)

    op.create_table('account_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'skipped', name='notificationstatus', native_enum=False, length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', consult.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', consult.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_notices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_notices'))
    )
    with op.batch_alter_table('account_notices', schema=None) as batch_op:
        batch_op.create_index('ix_account_notices_status', ['status', 'id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', consult.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    # Copies tables on SQLite: never with foreign keys enforced (consult.migrate).
    require_foreign_keys_off(op.get_bind())
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('account_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_account_notices_status')

    op.drop_table('account_notices')
    with op.batch_alter_table('spent_form_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_form_tokens_expires_at'))

    op.drop_table('spent_form_tokens')
    op.drop_table('login_failures')
