"""Routes for invitations (coordinator) and join requests (invitation holders)."""

from fastapi import APIRouter, status

from app.core.deps import SessionDep
from app.core.encoding import b64url
from app.core.routing import CordonRoute
from app.groups.dependencies import GroupCoordinator, GroupInvitee
from app.invitations import service
from app.invitations.schemas import (
    InvitationCreate,
    InvitationRead,
    JoinRequestAccepted,
    JoinRequestCreate,
    JoinRequestRead,
)

router = APIRouter(route_class=CordonRoute)


@router.post(
    "/{group_id}/invitations", response_model=InvitationRead, status_code=status.HTTP_201_CREATED
)
async def create_invitation(
    body: InvitationCreate, session: SessionDep, access: GroupCoordinator
) -> InvitationRead:
    """Open an invitation by its one-way id; the secret never reaches the server."""
    row = await service.register(
        session,
        group_id=access.group.id,
        creator=access.user,
        invitation_id=body.invitation_id,
        ttl_hours=body.ttl_hours,
    )
    return InvitationRead(invitation_id=b64url(row.invitation_id), expires_at=row.expires_at)


@router.delete("/{group_id}/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def close_invitation(
    invitation_id: str, session: SessionDep, access: GroupCoordinator
) -> None:
    """Close an invitation once used or withdrawn; its join request goes with it."""
    await service.close(session, group_id=access.group.id, invitation_id=invitation_id)


@router.post(
    "/{group_id}/invitations/{invitation_id}/join-request",
    response_model=JoinRequestAccepted,
    status_code=status.HTTP_201_CREATED,
)
async def post_join_request(
    body: JoinRequestCreate, session: SessionDep, access: GroupInvitee
) -> JoinRequestAccepted:
    """Answer an invitation with a member key and its MAC; returns the log's genesis entry."""
    pending, genesis = await service.post_join_request(
        session,
        invitation=access.invitation,
        user=access.user,
        member_key=body.member_key,
        mac=body.mac,
    )
    return JoinRequestAccepted(**vars(pending), genesis=genesis)


@router.get("/{group_id}/join-requests", response_model=list[JoinRequestRead])
async def list_join_requests(
    session: SessionDep, access: GroupCoordinator
) -> list[JoinRequestRead]:
    """Pending join requests; the coordinator's device verifies each MAC itself."""
    rows = await service.get_pending(session, group_id=access.group.id)
    return [JoinRequestRead(**vars(p)) for p in rows]
