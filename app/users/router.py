"""Routes for users: creation by admins and NCPs, listing, enrolment codes."""

import uuid

from fastapi import APIRouter, status

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep, SettingsDep
from app.core.pagination import Page, PageDep
from app.core.routing import CordonRoute
from app.users import service
from app.users.models import User
from app.users.schemas import EnrolmentCodeRead, UserCreate, UserCreated, UserRead

router = APIRouter(route_class=CordonRoute)


@router.post("", response_model=UserCreated, status_code=status.HTTP_201_CREATED)
async def create_user(
    user_in: UserCreate, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> UserCreated:
    """Create an officer and hand back the one-time enrolment code to pass to them."""
    user, issued = await service.create(
        session, settings=settings, actor=principal.user, user_in=user_in
    )
    return UserCreated(
        user=UserRead.model_validate(user),
        enrolment=EnrolmentCodeRead(code=issued.code, expires_at=issued.row.expires_at),
    )


@router.get("", response_model=Page[UserRead])
async def list_users(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> Page[UserRead]:
    """Admins see every user; everyone else sees their own organisation."""
    organisation_id = None if principal.user.is_admin else principal.user.organisation_id
    users = await service.get_all(
        session,
        organisation_id=organisation_id,
        after_username=page.position("users"),
        limit=page.limit,
    )
    return Page(
        items=[UserRead.model_validate(u) for u in users],
        next_cursor=page.next_cursor("users", users, users[-1].username if users else None),
    )


@router.get("/me", response_model=UserRead)
async def read_me(principal: CurrentPrincipal) -> User:
    """The caller's own account."""
    return principal.user


@router.post(
    "/{user_id}/enrolment-codes",
    response_model=EnrolmentCodeRead,
    status_code=status.HTTP_201_CREATED,
)
async def issue_enrolment_code(
    user_id: uuid.UUID, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> EnrolmentCodeRead:
    """A fresh code for another user the caller manages (the old one stops working);
    redeeming it sets a new password and ends every session of that user."""
    user = await service.get(session, user_id=user_id)
    issued = await service.issue_code(session, settings=settings, actor=principal.user, user=user)
    return EnrolmentCodeRead(code=issued.code, expires_at=issued.row.expires_at)


@router.post("/{user_id}/disable", response_model=UserRead)
async def disable_user(
    user_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> User:
    """Disable another account: its sessions end, its sockets close, it cannot log in."""
    user = await service.get(session, user_id=user_id)
    return await service.disable(session, actor=principal.user, user=user)


@router.post("/{user_id}/enable", response_model=UserRead)
async def enable_user(user_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> User:
    """Re-enable a disabled account (it logs in afresh; its old sessions stay ended)."""
    user = await service.get(session, user_id=user_id)
    return await service.enable(session, actor=principal.user, user=user)
