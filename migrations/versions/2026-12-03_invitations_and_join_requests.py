"""invitations and join requests (protocol v2: member keys bound out of band)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('group_invitation',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('invitation_id', sa.LargeBinary(length=16), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_group_invitation_created_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['cordon_group.id'], name=op.f('fk_group_invitation_group_id_cordon_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_invitation')),
    sa.UniqueConstraint('invitation_id', name=op.f('uq_group_invitation_invitation_id'))
    )
    with op.batch_alter_table('group_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_invitation_group_id'), ['group_id'], unique=False)

    op.create_table('join_request',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('invitation_pk', sa.Uuid(), nullable=False),
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('member_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('mac', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['cordon_group.id'], name=op.f('fk_join_request_group_id_cordon_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_pk'], ['group_invitation.id'], name=op.f('fk_join_request_invitation_pk_group_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_join_request_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_request')),
    sa.UniqueConstraint('invitation_pk', name=op.f('uq_join_request_invitation_pk'))
    )
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_request_group_id'), ['group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_request_group_id'))
    op.drop_table('join_request')
    with op.batch_alter_table('group_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_invitation_group_id'))
    op.drop_table('group_invitation')
