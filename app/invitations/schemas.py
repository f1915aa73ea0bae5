"""Bodies for invitations and join requests; binary fields are unpadded base64url."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from app.core.schemas import InputModel, ReadModel


class InvitationCreate(InputModel):
    """An invitation's one-way id (16 bytes) and how long it stays open (1 h to 30 days)."""

    invitation_id: str = Field(min_length=22, max_length=22)
    ttl_hours: int = Field(default=14 * 24, ge=1, le=30 * 24)


class InvitationRead(ReadModel):
    invitation_id: str
    expires_at: datetime


class JoinRequestCreate(InputModel):
    """The joiner's member key and the MAC over it under the invitation's key."""

    member_key: str = Field(min_length=43, max_length=43)
    mac: str = Field(min_length=43, max_length=43)


class JoinRequestRead(ReadModel):
    """A pending join request; the coordinator's device checks the MAC before certifying."""

    invitation_id: str
    user_id: uuid.UUID
    username: str
    member_key: str
    mac: str
    created_at: datetime


class JoinRequestAccepted(JoinRequestRead):
    """The stored request and the log's genesis entry, for the joiner to check its root."""

    genesis: dict[str, Any]
