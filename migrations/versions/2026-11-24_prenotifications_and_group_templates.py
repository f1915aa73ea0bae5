"""prenotifications and group templates

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-24 00:04:29.200238
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('group_template',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('signer_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('signer_device_id', sa.Uuid(), nullable=True),
    sa.Column('published_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['cordon_group.id'], name=op.f('fk_group_template_group_id_cordon_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_group_template_published_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['signer_device_id'], ['device.id'], name=op.f('fk_group_template_signer_device_id_device'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_template')),
    sa.UniqueConstraint('group_id', 'template_id', 'version', name=op.f('uq_group_template_group_id'))
    )
    op.create_table('prenotification',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('group_id', sa.Uuid(), nullable=False),
    sa.Column('sender_user_id', sa.Uuid(), nullable=True),
    sa.Column('sender_device_id', sa.Uuid(), nullable=True),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('stream_seq', sa.Integer(), nullable=False),
    sa.Column('eta', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discrepancy_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['cordon_group.id'], name=op.f('fk_prenotification_group_id_cordon_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_device_id'], ['device.id'], name=op.f('fk_prenotification_sender_device_id_device'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_user_id'], ['user_account.id'], name=op.f('fk_prenotification_sender_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prenotification'))
    )
    with op.batch_alter_table('prenotification', schema=None) as batch_op:
        batch_op.create_index('ix_prenotification_group_sent', ['group_id', 'sent_at'], unique=False)

    op.create_table('prenotification_event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('prenotification_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('actor_device_id', sa.Uuid(), nullable=True),
    sa.Column('ts', sa.BigInteger(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.Column('detail_seq', sa.Integer(), nullable=True),
    sa.Column('stream_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_device_id'], ['device.id'], name=op.f('fk_prenotification_event_actor_device_id_device'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_prenotification_event_actor_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['prenotification_id'], ['prenotification.id'], name=op.f('fk_prenotification_event_prenotification_id_prenotification'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prenotification_event')),
    sa.UniqueConstraint('prenotification_id', 'seq', name=op.f('uq_prenotification_event_prenotification_id'))
    )
    op.create_table('prenotification_recipient',
    sa.Column('prenotification_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['prenotification_id'], ['prenotification.id'], name=op.f('fk_prenotification_recipient_prenotification_id_prenotification'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_prenotification_recipient_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('prenotification_id', 'user_id', name=op.f('pk_prenotification_recipient'))
    )
    with op.batch_alter_table('prenotification_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prenotification_recipient_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('prenotification_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prenotification_recipient_user_id'))

    op.drop_table('prenotification_recipient')
    op.drop_table('prenotification_event')
    with op.batch_alter_table('prenotification', schema=None) as batch_op:
        batch_op.drop_index('ix_prenotification_group_sent')

    op.drop_table('prenotification')
    op.drop_table('group_template')
