"""one-time prekeys: signed X25519 keys a sender claims once (protocol v2, PROTOCOL §3.2)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('one_time_prekey',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('prekey_id', sa.BigInteger(), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('sig', sa.LargeBinary(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_one_time_prekey_device_id_device'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_time_prekey')),
    sa.UniqueConstraint('device_id', 'prekey_id', name=op.f('uq_one_time_prekey_device_id'))
    )


def downgrade() -> None:
    op.drop_table('one_time_prekey')
