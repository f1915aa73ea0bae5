"""Routes for groups: creation, lifecycle, membership and the membership log."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.dependencies import AdminPrincipal, CurrentPrincipal
from app.core.deps import SessionDep
from app.core.pagination import Page, PageDep
from app.core.routing import CordonRoute
from app.core.schemas import BoundedInt
from app.groups import service
from app.groups.dependencies import GroupCoordinator, GroupLifecycle, GroupReader
from app.groups.models import Group, Membership
from app.groups.schemas import (
    GroupCreate,
    GroupRead,
    GroupStatusChange,
    GroupUpdate,
    MemberAdd,
    MemberRead,
    MembershipEventRead,
    MemberUpdate,
    MyGroupRead,
    RosterEntryRead,
)

router = APIRouter(route_class=CordonRoute)


@router.post("", response_model=GroupRead, status_code=status.HTTP_201_CREATED)
async def create_group(group_in: GroupCreate, session: SessionDep, admin: AdminPrincipal) -> Group:
    """Open a group for an operation and name its first coordinator."""
    return await service.create(session, actor=admin.user, group_in=group_in)


@router.get("", response_model=list[MyGroupRead])
async def list_my_groups(session: SessionDep, principal: CurrentPrincipal) -> list[MyGroupRead]:
    """The groups the caller belongs to, with their role in each."""
    rows = await service.get_for_user(session, user=principal.user)
    return [
        MyGroupRead.model_validate({**GroupRead.model_validate(g).model_dump(), "my_role": role})
        for g, role in rows
    ]


@router.get("/{group_id}", response_model=GroupRead)
async def get_group(access: GroupReader) -> Group:
    """One group the caller belongs to."""
    return access.group


@router.patch("/{group_id}", response_model=GroupRead)
async def update_group(
    group_in: GroupUpdate, session: SessionDep, access: GroupCoordinator
) -> Group:
    """Edit the group's description or settings."""
    return await service.update_group(session, access=access, group_in=group_in)


@router.post("/{group_id}/status", response_model=GroupRead)
async def change_group_status(
    body: GroupStatusChange, session: SessionDep, access: GroupLifecycle
) -> Group:
    """Move the group along planned → active → closed → archived (closed may reopen);
    closing or archiving closes the sockets following the group (4003)."""
    return await service.change_status(session, access=access, status=body.status)


@router.get("/{group_id}/members", response_model=list[RosterEntryRead])
async def list_members(session: SessionDep, access: GroupReader) -> list[RosterEntryRead]:
    """The group's live roster, naming each member and marking service accounts."""
    return await service.get_members(session, group_id=access.group.id)


@router.post("/{group_id}/members", response_model=MemberRead, status_code=status.HTTP_201_CREATED)
async def add_member(
    member_in: MemberAdd, session: SessionDep, access: GroupCoordinator
) -> Membership:
    """Admit a user with a role."""
    return await service.add_member(session, access=access, member_in=member_in)


@router.patch("/{group_id}/members/{user_id}", response_model=MemberRead)
async def update_member(
    user_id: uuid.UUID, member_in: MemberUpdate, session: SessionDep, access: GroupCoordinator
) -> Membership:
    """Change a member's role or region scope."""
    return await service.update_member(session, access=access, user_id=user_id, member_in=member_in)


@router.delete("/{group_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(user_id: uuid.UUID, session: SessionDep, access: GroupCoordinator) -> None:
    """Remove a member from the group."""
    await service.remove_member(session, access=access, user_id=user_id)


@router.get("/{group_id}/events", response_model=Page[MembershipEventRead])
async def list_membership_events(
    session: SessionDep,
    access: GroupReader,
    page: PageDep,
    after_seq: Annotated[BoundedInt, Query(ge=0)] = 0,
) -> Page[MembershipEventRead]:
    """The ordered membership log, from `after_seq` or from where a cursor stopped."""
    position = page.position(f"events:{access.group.id}")
    start = int(position) if position is not None else after_seq
    events = await service.get_events(
        session, group_id=access.group.id, after_seq=start, limit=page.limit
    )
    return Page(
        items=[MembershipEventRead.model_validate(e) for e in events],
        next_cursor=page.next_cursor(
            f"events:{access.group.id}", events, events[-1].seq if events else None
        ),
    )
