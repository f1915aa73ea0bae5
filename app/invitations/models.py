"""Registered invitation ids and the join requests posted against them.

The server stores only the invitation's one-way id, never its secret; a join request's MAC
is opaque to it and checked by the coordinator's device (docs/PROTOCOL.md §3.5).
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey, UTCDateTime


class GroupInvitation(Base):
    """An invitation a coordinator issued for one joining member (its id only)."""

    __tablename__ = "group_invitation"

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), index=True, nullable=False
    )
    invitation_id: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[CreatedAt]


class JoinRequest(Base):
    """A joining user's member key and MAC under the invitation, awaiting the coordinator."""

    __tablename__ = "join_request"

    id: Mapped[PrimaryKey]
    invitation_pk: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("group_invitation.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False
    )
    member_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    mac: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_at: Mapped[CreatedAt]
