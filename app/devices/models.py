"""A device holds public keys only: the server never receives a private key."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey, UTCDateTime


class Device(Base):
    """One client installation: an Ed25519 signing key and an X25519 key, both public."""

    __tablename__ = "device"

    id: Mapped[PrimaryKey]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    signing_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, nullable=False)
    exchange_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[CreatedAt]
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
