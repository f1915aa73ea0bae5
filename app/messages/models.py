"""A group's stream: gap-free `seq` per group, opaque envelopes plus routing metadata only."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import PrimaryKey, UTCDateTime


class MessageKind(StrEnum):
    """What a stream item is. Clients post the first seven; the server writes the last two."""

    ALERT = "alert"
    CHAT = "chat"
    PRENOTIFICATION = "prenotification"
    PRENOTIFICATION_EVENT = "prenotification_event"
    LIBRARY = "library"
    SENDER_KEY = "sender_key"
    HISTORY_TRANSFER = "history_transfer"
    MEMBERSHIP = "membership"  # server-written: a membership log entry (JSON envelope)
    RECEIPT = "receipt"  # server-written: a delivered/read receipt for the item's sender


CLIENT_KINDS = frozenset(MessageKind) - {MessageKind.MEMBERSHIP, MessageKind.RECEIPT}
# Never broadcast: pre-notifications name high-value cargo; keys and history go per device.
TARGETED_KINDS = frozenset(
    {MessageKind.PRENOTIFICATION, MessageKind.SENDER_KEY, MessageKind.HISTORY_TRANSFER}
)


class GroupStream(Base):
    """The head of a group's stream; its row lock serialises appends to one group."""

    __tablename__ = "group_stream"

    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), primary_key=True
    )
    head_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class StreamItem(Base):
    """One committed item; the server never parses `envelope` beyond its size."""

    __tablename__ = "stream_item"
    __table_args__ = (
        UniqueConstraint("group_id", "seq", name="uq_stream_item_group_seq"),
        UniqueConstraint(
            "group_id", "sender_device_id", "client_msg_id", name="uq_stream_item_client_msg"
        ),
    )

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    sender_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    sender_device_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="SET NULL")
    )
    # SQL NULL for the whole group (not JSON null), so reading a broadcast decodes nothing.
    recipients: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    parent_seq: Mapped[int | None] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    envelope: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Receipt(Base):
    """How far one recipient device got with one item: delivered, then read."""

    __tablename__ = "message_receipt"
    __table_args__ = (PrimaryKeyConstraint("group_id", "seq", "device_id"),)

    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    device_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False
    )
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
