"""Groups, memberships and the per-group ordered membership event log."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey, UTCDateTime


class GroupStatus(StrEnum):
    """Lifecycle of an operation's group; archived is read-only."""

    PLANNED = "planned"
    ACTIVE = "active"
    CLOSED = "closed"
    ARCHIVED = "archived"


class GroupRole(StrEnum):
    """Roles inside one group, from most to least powerful."""

    COORDINATOR = "coordinator"
    CO_COORDINATOR = "co_coordinator"
    MEMBER = "member"
    OBSERVER = "observer"


class Group(Base):
    """A closed user group opened for one operation."""

    __tablename__ = "cordon_group"

    id: Mapped[PrimaryKey]
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="planned")
    co_coordinators_publish: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
    membership_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Membership(Base):
    """A user's current role in a group; removal ends the row instead of deleting it."""

    __tablename__ = "group_member"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    region: Mapped[str | None] = mapped_column(String(4))
    added_at: Mapped[CreatedAt]
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MembershipEvent(Base):
    """One entry of a group's ordered membership log (`seq` is gap-free per group)."""

    __tablename__ = "membership_event"
    __table_args__ = (UniqueConstraint("group_id", "seq"),)

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    subject_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    role: Mapped[str | None] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[CreatedAt]
