"""service accounts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_service', sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table('service_account',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('credential_digest', sa.String(length=64), nullable=False),
    sa.Column('operations', sa.JSON(), nullable=False),
    sa.Column('group_ids', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_service_account_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_service_account_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_service_account')),
    sa.UniqueConstraint('credential_digest', name=op.f('uq_service_account_credential_digest'))
    )


def downgrade() -> None:
    op.drop_table('service_account')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('is_service')
