"""A service account is a `User` (so memberships, devices, the signed log and the audit of
who posted work unchanged) plus this row: its scope and its credential's keyed digest."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, UTCDateTime


class ServiceAccount(Base):
    """The credential exchanged for short-lived tokens, and what those tokens may do."""

    __tablename__ = "service_account"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    credential_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    operations: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    group_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def allows_group(self, group_id: uuid.UUID) -> bool:
        return str(group_id) in self.group_ids
