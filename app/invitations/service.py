"""Registering invitation ids, storing join requests and handing them to the coordinator.

The server cannot check a join request's MAC (it never holds the invitation secret); it only
keeps one request per open invitation and shows them to the group's coordinator, whose device
verifies each MAC before it certifies the member key in the signed log.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.encoding import b64url, b64url_strict
from app.core.types import utcnow
from app.invitations.exceptions import (
    InvitationExists,
    InvitationNotFound,
    InvitationUsed,
    LogNotOpened,
    MalformedInvitation,
)
from app.invitations.models import GroupInvitation, JoinRequest
from app.keys import service as keys_service
from app.users.models import User


def parse_invitation_id(text: str) -> bytes:
    """The 16-byte invitation id from its unpadded base64url form."""
    try:
        return b64url_strict(text, length=16, what="invitation_id")
    except ValueError as exc:
        raise MalformedInvitation(str(exc)) from None


async def register(
    session: AsyncSession,
    *,
    group_id: uuid.UUID,
    creator: User,
    invitation_id: str,
    ttl_hours: int,
) -> GroupInvitation:
    """Open an invitation id for one joiner (dropping the group's expired ones, with their
    requests); the secret behind it stays with the coordinator."""
    await session.execute(
        delete(GroupInvitation).where(
            GroupInvitation.group_id == group_id, GroupInvitation.expires_at <= utcnow()
        )
    )
    row = GroupInvitation(
        group_id=group_id,
        invitation_id=parse_invitation_id(invitation_id),
        created_by=creator.id,
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise InvitationExists() from None
    return row


async def find_open(
    session: AsyncSession, *, group_id: uuid.UUID, invitation_id: bytes
) -> GroupInvitation | None:
    """The group's unexpired invitation with this id, or None (the caller answers 404)."""
    return await session.scalar(
        select(GroupInvitation).where(
            GroupInvitation.group_id == group_id,
            GroupInvitation.invitation_id == invitation_id,
            GroupInvitation.expires_at > utcnow(),
        )
    )


@dataclass(frozen=True)
class PendingJoin:
    """A join request with its invitation id and the requesting user's name."""

    invitation_id: str
    user_id: uuid.UUID
    username: str
    member_key: str
    mac: str
    created_at: Any


def _pending(request: JoinRequest, invitation: GroupInvitation, user: User) -> PendingJoin:
    return PendingJoin(
        b64url(invitation.invitation_id),
        request.user_id,
        user.username,
        b64url(request.member_key),
        b64url(request.mac),
        request.created_at,
    )


async def post_join_request(
    session: AsyncSession,
    *,
    invitation: GroupInvitation,
    user: User,
    member_key: str,
    mac: str,
) -> tuple[PendingJoin, dict[str, Any]]:
    """Store (or replace, for the same user) the one request of an invitation; return it with
    the log's genesis entry, which the joiner checks against its invitation's root hash."""
    try:
        key = b64url_strict(member_key, length=32, what="member_key")
        tag = b64url_strict(mac, length=32, what="mac")
    except ValueError as exc:
        raise MalformedInvitation(str(exc)) from None
    rows, _ = await keys_service.get_log(
        session, group_id=invitation.group_id, after_seq=-1, limit=1
    )
    if not rows:
        raise LogNotOpened()
    existing = await session.scalar(
        select(JoinRequest).where(JoinRequest.invitation_pk == invitation.id)
    )
    if existing is not None and existing.user_id != user.id:
        raise InvitationUsed()
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    request = JoinRequest(
        invitation_pk=invitation.id,
        group_id=invitation.group_id,
        user_id=user.id,
        member_key=key,
        mac=tag,
        created_at=utcnow(),
    )
    session.add(request)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise InvitationUsed() from None
    return _pending(request, invitation, user), json.loads(rows[0].entry_json)


async def get_pending(session: AsyncSession, *, group_id: uuid.UUID) -> list[PendingJoin]:
    """Every join request of the group's unexpired invitations, oldest first."""
    rows = await session.execute(
        select(JoinRequest, GroupInvitation, User)
        .join(GroupInvitation, GroupInvitation.id == JoinRequest.invitation_pk)
        .join(User, User.id == JoinRequest.user_id)
        .where(JoinRequest.group_id == group_id, GroupInvitation.expires_at > utcnow())
        .order_by(JoinRequest.created_at, JoinRequest.id)
    )
    return [_pending(r, i, u) for r, i, u in rows]


async def close(session: AsyncSession, *, group_id: uuid.UUID, invitation_id: str) -> None:
    """Drop an invitation and its request once the coordinator used or withdrew it."""
    result = await session.execute(
        delete(GroupInvitation).where(
            GroupInvitation.group_id == group_id,
            GroupInvitation.invitation_id == parse_invitation_id(invitation_id),
        )
    )
    if not getattr(result, "rowcount", 0):
        await session.rollback()
        raise InvitationNotFound()
    await session.execute(
        delete(JoinRequest).where(
            JoinRequest.group_id == group_id,
            JoinRequest.invitation_pk.not_in(select(GroupInvitation.id)),
        )
    )
    await session.commit()
