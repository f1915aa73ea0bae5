"""Users and their one-time enrolment codes."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey, UTCDateTime


class PlatformRole(StrEnum):
    """Platform-wide roles; group roles live on memberships."""

    ADMIN = "admin"
    USER = "user"


class User(Base):
    """An officer of one organisation; `is_ncp` lets them manage that organisation's users."""

    __tablename__ = "user_account"

    id: Mapped[PrimaryKey]
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organisation.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    platform_role: Mapped[str] = mapped_column(String(16), nullable=False, default="user")
    is_ncp: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # A machine credential (`app.service_accounts`): never a password, never a person.
    is_service: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[CreatedAt]

    @property
    def is_admin(self) -> bool:
        return self.platform_role == PlatformRole.ADMIN


class EnrolmentCode(Base):
    """A one-time, expiring code with which a new user sets their password."""

    __tablename__ = "enrolment_code"

    id: Mapped[PrimaryKey]
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    code_digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[CreatedAt]
