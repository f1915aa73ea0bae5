"""A published template version: the signed document, kept opaque, plus its id and version."""

import uuid

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey


class GroupTemplate(Base):
    """One coordinator-signed template version of one group; versions never change."""

    __tablename__ = "group_template"
    __table_args__ = (UniqueConstraint("group_id", "template_id", "version"),)

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), nullable=False
    )
    template_id: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    document: Mapped[str] = mapped_column(Text, nullable=False)
    signer_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    signer_device_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="SET NULL")
    )
    published_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
