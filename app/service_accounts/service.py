"""Creating, listing, revoking service accounts, and exchanging a credential for a token.

Who may manage one (docs/operations.md): an administrator, any; an NCP, those of their own
organisation; nobody else, and never a service account itself (its routes are `DENIED`).
"""

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.core.config import Settings
from app.core.security import new_token, token_digest
from app.core.types import utcnow
from app.devices import service as devices_service
from app.organisations import service as organisations_service
from app.service_accounts.exceptions import (
    InvalidServiceCredential,
    ServiceAccountDenied,
    ServiceAccountNotFound,
)
from app.service_accounts.models import ServiceAccount
from app.service_accounts.schemas import ServiceAccountCreate, ServiceLogin
from app.users import service as users_service
from app.users.exceptions import UsernameTaken
from app.users.models import User

CREDENTIAL_PREFIX = "cdn_sa"  # recognisable to secret scanners, like tokens' `cdn`


def ensure_can_manage(actor: User, *, organisation_id: uuid.UUID) -> None:
    """An administrator anywhere, an NCP in their own organisation (both people)."""
    if actor.is_service:
        raise ServiceAccountDenied()
    if actor.is_admin or (actor.is_ncp and actor.organisation_id == organisation_id):
        return
    raise ServiceAccountDenied()


async def create(
    session: AsyncSession,
    *,
    settings: Settings,
    actor: User | None,
    account_in: ServiceAccountCreate,
) -> tuple[User, ServiceAccount, str]:
    """The account, its scope and its credential, returned once and stored as a digest.

    `actor` is None only for `cordon-server service-account create` (the operator)."""
    if actor is not None:
        ensure_can_manage(actor, organisation_id=account_in.organisation_id)
    await organisations_service.get(session, organisation_id=account_in.organisation_id)
    username = account_in.username.lower()
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(f"The username {username!r} is taken.")
    user = User(
        organisation_id=account_in.organisation_id,
        username=username,
        display_name=account_in.display_name,
        platform_role="user",
        is_ncp=False,
        is_service=True,
    )
    session.add(user)
    await session.flush()
    credential = new_token(CREDENTIAL_PREFIX)
    row = ServiceAccount(
        user_id=user.id,
        credential_digest=token_digest(settings.secret_key, credential),
        operations=[op.value for op in account_in.operations],
        group_ids=[str(group_id) for group_id in account_in.group_ids],
        created_by_id=actor.id if actor else None,
    )
    session.add(row)
    await session.commit()
    return user, row, credential


async def get(session: AsyncSession, *, user_id: uuid.UUID) -> tuple[User, ServiceAccount]:
    """The account, or `service_account.not_found`."""
    row = (
        await session.execute(
            select(User, ServiceAccount)
            .join(ServiceAccount, ServiceAccount.user_id == User.id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None:
        raise ServiceAccountNotFound()
    return row[0], row[1]


async def get_managed(
    session: AsyncSession, *, actor: User | None, user_id: uuid.UUID
) -> tuple[User, ServiceAccount]:
    """The account if the actor manages it; one they do not manage is not found."""
    user, row = await get(session, user_id=user_id)
    if actor is not None:
        try:
            ensure_can_manage(actor, organisation_id=user.organisation_id)
        except ServiceAccountDenied:
            raise ServiceAccountNotFound() from None
    return user, row


async def get_by_username(session: AsyncSession, *, username: str) -> tuple[User, ServiceAccount]:
    """Look an account up by username (the admin CLI's handle)."""
    user = await session.scalar(select(User).where(User.username == username.lower()))
    if user is None or not user.is_service:
        raise ServiceAccountNotFound(f"No service account named {username!r}.")
    return await get(session, user_id=user.id)


async def get_all(
    session: AsyncSession, *, actor: User | None
) -> list[tuple[User, ServiceAccount]]:
    """Every account the actor manages (all for an administrator), by username."""
    if actor is not None and actor.is_service:
        raise ServiceAccountDenied()
    query = (
        select(User, ServiceAccount)
        .join(ServiceAccount, ServiceAccount.user_id == User.id)
        .order_by(User.username)
    )
    if actor is not None and not actor.is_admin:
        if not actor.is_ncp:
            raise ServiceAccountDenied()
        query = query.where(User.organisation_id == actor.organisation_id)
    return [(user, row) for user, row in await session.execute(query)]


async def revoke(session: AsyncSession, *, user: User, row: ServiceAccount) -> None:
    """The credential stops working, every token of the account ends and its sockets close
    (on every process, after the commit): `users.service.end_sessions`, as for a person."""
    now = utcnow()
    if row.revoked_at is None:
        row.revoked_at = now
    if user.disabled_at is None:
        user.disabled_at = now
    await users_service.end_sessions(session, user=user, reason="service account revoked")
    await session.commit()


async def login(
    session: AsyncSession, *, settings: Settings, login_in: ServiceLogin
) -> auth_service.IssuedToken:
    """Exchange the credential for a short-lived token on the account's device (registered
    here the first time, with keys generated on the machine that runs the account)."""
    digest = token_digest(settings.secret_key, login_in.credential)
    found = (
        await session.execute(
            select(User, ServiceAccount)
            .join(ServiceAccount, ServiceAccount.user_id == User.id)
            .where(ServiceAccount.credential_digest == digest)
        )
    ).first()
    if found is None:
        raise InvalidServiceCredential()
    user, row = found
    if row.revoked_at is not None or user.disabled_at is not None:
        raise InvalidServiceCredential()
    if login_in.device is not None:
        device = await devices_service.create(session, user=user, device_in=login_in.device)
    else:
        assert login_in.device_id is not None
        device = await devices_service.get_own(session, user=user, device_id=login_in.device_id)
    row.last_used_at = utcnow()
    return await auth_service.issue_token(
        session,
        settings=settings,
        user=user,
        device=device,
        ttl=timedelta(minutes=settings.service_token_ttl_minutes),
    )
