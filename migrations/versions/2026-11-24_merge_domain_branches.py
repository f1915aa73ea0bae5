"""merge domain branches: messaging, keys, library and pre-notifications into one head

The four domains were migrated as branches off 0001; this revision joins them so the schema
has a single head again. It changes no table.

Revision ID: 0006
Revises: 0003, 0004, 0002, 0005
Create Date: 2026-11-24 01:31:05.281665
"""
from collections.abc import Sequence


revision: str = '0006'
down_revision: tuple[str, ...] = ('0002', '0003', '0004', '0005')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the parents created every table."""


def downgrade() -> None:
    """Nothing to undo."""
