"""blob store in postgresql

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:50:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('owner', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_blob'))
    )
    with op.batch_alter_table('blob', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blob_owner'), ['owner'], unique=False)

    op.create_table('blob_segment',
    sa.Column('owner', sa.Uuid(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('start', sa.BigInteger(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('owner', 'idx', name=op.f('pk_blob_segment'))
    )
    op.create_table('blob_upload',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blob_upload'))
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Ciphertext does not compress: skip the attempt, and let substring() read only the
        # TOAST chunks a byte range needs.
        op.execute('ALTER TABLE blob_segment ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    op.drop_table('blob_upload')
    op.drop_table('blob_segment')
    with op.batch_alter_table('blob', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blob_owner'))

    op.drop_table('blob')
