"""Routes for service accounts: management by administrators and NCPs, credential login."""

import uuid

from fastapi import APIRouter, status

from app.auth.dependencies import CurrentPrincipal
from app.auth.schemas import TokenRead
from app.core.deps import SessionDep, SettingsDep
from app.core.routing import CordonRoute
from app.service_accounts import service
from app.service_accounts.models import ServiceAccount
from app.service_accounts.schemas import (
    ServiceAccountCreate,
    ServiceAccountCreated,
    ServiceAccountRead,
    ServiceLogin,
)
from app.service_accounts.scopes import Operation
from app.users.models import User
from app.users.schemas import UserRead

router = APIRouter(route_class=CordonRoute)


def _read(user: User, row: ServiceAccount) -> ServiceAccountRead:
    return ServiceAccountRead(
        user_id=user.id,
        organisation_id=user.organisation_id,
        username=user.username,
        display_name=user.display_name,
        operations=[Operation(op) for op in row.operations],
        group_ids=[uuid.UUID(group_id) for group_id in row.group_ids],
        created_by_id=row.created_by_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


@router.post("", response_model=ServiceAccountCreated, status_code=status.HTTP_201_CREATED)
async def create_service_account(
    body: ServiceAccountCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> ServiceAccountCreated:
    """Create a machine account scoped to groups and operations; its credential is in this
    answer only. A coordinator of each group still admits it (invitation and `group admit`)."""
    user, row, credential = await service.create(
        session, settings=settings, actor=principal.user, account_in=body
    )
    return ServiceAccountCreated(service_account=_read(user, row), credential=credential)


@router.get("", response_model=list[ServiceAccountRead])
async def list_service_accounts(
    session: SessionDep, principal: CurrentPrincipal
) -> list[ServiceAccountRead]:
    """The accounts the caller manages: all for an administrator, an NCP's organisation's."""
    found = await service.get_all(session, actor=principal.user)
    return [_read(user, row) for user, row in found]


@router.get("/{user_id}", response_model=ServiceAccountRead)
async def read_service_account(
    user_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> ServiceAccountRead:
    """One account the caller manages."""
    user, row = await service.get_managed(session, actor=principal.user, user_id=user_id)
    return _read(user, row)


@router.post("/{user_id}/revoke", response_model=ServiceAccountRead)
async def revoke_service_account(
    user_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> ServiceAccountRead:
    """Revoke the credential: its sessions end and its sockets close at once."""
    user, row = await service.get_managed(session, actor=principal.user, user_id=user_id)
    await service.revoke(session, user=user, row=row)
    return _read(user, row)


@router.post("/login", response_model=TokenRead)
async def service_login(
    body: ServiceLogin, session: SessionDep, settings: SettingsDep
) -> TokenRead:
    """Exchange the credential for a short-lived bearer token bound to the account's device
    (no password, no TOTP: the credential is the non-interactive factor)."""
    issued = await service.login(session, settings=settings, login_in=body)
    return TokenRead(
        access_token=issued.secret,
        expires_at=issued.token.expires_at,
        device_id=issued.token.device_id,
        user=UserRead.model_validate(issued.user),
    )
