"""Signed prekeys of devices and the groups' signed membership log entries."""

import uuid

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey


class DevicePrekey(Base):
    """An X25519 HPKE prekey signed by its device (public half and signature only)."""

    __tablename__ = "device_prekey"
    __table_args__ = (UniqueConstraint("device_id", "prekey_id"),)

    id: Mapped[PrimaryKey]
    device_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="CASCADE"), index=True, nullable=False
    )
    prekey_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expires_ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sig: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    uploaded_at: Mapped[CreatedAt]


class GroupLogEntry(Base):
    """One entry of a group's signed, hash-chained membership log, stored verbatim."""

    __tablename__ = "group_log_entry"
    __table_args__ = (UniqueConstraint("group_id", "seq"),)

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    op: Mapped[str] = mapped_column(String(32), nullable=False)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    entry_json: Mapped[str] = mapped_column(Text, nullable=False)
    author_device_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]


class MemberKey(Base):
    """A user's published member public key (Ed25519), which coordinators certify in logs.

    The directory is untrusted: a coordinator's client compares its fingerprint out of band
    before certifying it, and later changes go through the log's `rotate_member_key`.
    """

    __tablename__ = "member_key"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[CreatedAt]


class OneTimePrekey(Base):
    """An unclaimed X25519 one-time prekey signed by its device; the row is deleted when claimed,
    so the server never hands the same key out twice (docs/PROTOCOL.md §3.2)."""

    __tablename__ = "one_time_prekey"
    __table_args__ = (UniqueConstraint("device_id", "prekey_id"),)

    id: Mapped[PrimaryKey]
    device_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="CASCADE"), nullable=False
    )
    prekey_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    sig: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    uploaded_at: Mapped[CreatedAt]
