"""Creating users, issuing enrolment codes and completing enrolment."""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import realtime
from app.auth.models import AccessToken
from app.core.config import Settings
from app.core.security import (
    hash_password,
    new_token,
    new_totp_secret,
    open_secret,
    seal_secret,
    token_digest,
    totp_match,
)
from app.core.types import utcnow
from app.organisations import service as organisations_service
from app.users.exceptions import (
    EnrolmentTotpRequired,
    InvalidEnrolmentCode,
    LastAdministrator,
    SelfManagementDenied,
    UserManagementDenied,
    UsernameTaken,
    UserNotFound,
)
from app.users.models import EnrolmentCode, PlatformRole, User
from app.users.schemas import EnrolmentComplete, UserCreate


@dataclass(frozen=True)
class IssuedCode:
    """An enrolment code; `code` is shown once and only its digest is stored."""

    code: str
    row: EnrolmentCode


def ensure_can_create(actor: User, *, organisation_id: uuid.UUID) -> None:
    """Admins create users anywhere; an NCP in their own organisation."""
    if actor.is_admin or (actor.is_ncp and actor.organisation_id == organisation_id):
        return
    raise UserManagementDenied()


def ensure_can_manage(actor: User, *, user: User) -> None:
    """Who may issue a code for, disable or re-enable an account (docs/operations.md):
    an administrator, for anyone else; an NCP, for the other non-administrator users of
    their own organisation; nobody for their own account, so a stolen bearer token cannot
    reset a password and no one locks themselves out."""
    if actor.id == user.id:
        raise SelfManagementDenied()
    if actor.is_admin:
        return
    if actor.is_ncp and actor.organisation_id == user.organisation_id and not user.is_admin:
        return
    raise UserManagementDenied()


async def get(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    """The user, or `user.not_found`."""
    user = await session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


async def get_by_username(session: AsyncSession, *, username: str) -> User:
    """Look a user up by username (the admin CLI's handle)."""
    user = await session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise UserNotFound(f"No user named {username!r}.")
    return user


async def get_all(
    session: AsyncSession,
    *,
    organisation_id: uuid.UUID | None,
    after_username: str | None,
    limit: int,
) -> list[User]:
    """Users ordered by username, optionally of one organisation."""
    query = select(User).order_by(User.username).limit(limit)
    if organisation_id is not None:
        query = query.where(User.organisation_id == organisation_id)
    if after_username is not None:
        query = query.where(User.username > after_username)
    return list(await session.scalars(query))


async def create(
    session: AsyncSession, *, settings: Settings, actor: User | None, user_in: UserCreate
) -> tuple[User, IssuedCode]:
    """Create a user without a password and the enrolment code that lets them set one.

    `actor` is None only for the admin CLI, which runs with the operator's authority.
    """
    await organisations_service.get(session, organisation_id=user_in.organisation_id)
    if actor is not None:
        ensure_can_create(actor, organisation_id=user_in.organisation_id)
        if user_in.platform_role == PlatformRole.ADMIN and not actor.is_admin:
            raise UserManagementDenied("Only an administrator may create administrators.")
    username = user_in.username.lower()
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(f"The username {username!r} is taken.")
    user = User(
        organisation_id=user_in.organisation_id,
        username=username,
        display_name=user_in.display_name,
        platform_role=user_in.platform_role.value,
        is_ncp=user_in.is_ncp,
    )
    session.add(user)
    await session.flush()
    issued = await _new_code(session, settings=settings, user=user, actor=actor)
    await session.commit()
    return user, issued


async def _new_code(
    session: AsyncSession, *, settings: Settings, user: User, actor: User | None
) -> IssuedCode:
    """Replace any unused code of the user with a fresh one (only the newest works)."""
    now = utcnow()
    await session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.user_id == user.id, EnrolmentCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = new_token("enrol")
    row = EnrolmentCode(
        user_id=user.id,
        code_digest=token_digest(settings.secret_key, code),
        created_by_id=actor.id if actor else None,
        expires_at=now + timedelta(hours=settings.enrolment_ttl_hours),
    )
    session.add(row)
    await session.flush()
    return IssuedCode(code=code, row=row)


async def issue_code(
    session: AsyncSession, *, settings: Settings, actor: User | None, user: User
) -> IssuedCode:
    """A new enrolment code, e.g. for a user who forgot their password or lost TOTP."""
    if actor is not None:
        ensure_can_manage(actor, user=user)
    issued = await _new_code(session, settings=settings, user=user, actor=actor)
    await session.commit()
    return issued


async def _redeemable(
    session: AsyncSession, *, settings: Settings, code: str
) -> tuple[EnrolmentCode, User]:
    row = await session.scalar(
        select(EnrolmentCode).where(
            EnrolmentCode.code_digest == token_digest(settings.secret_key, code)
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise InvalidEnrolmentCode()
    user = await get(session, user_id=row.user_id)
    if user.disabled_at is not None:
        raise InvalidEnrolmentCode()
    return row, user


def totp_required(user: User) -> bool:
    """Administrators must use TOTP; others may opt in later."""
    return user.is_admin


async def inspect(
    session: AsyncSession, *, settings: Settings, code: str
) -> tuple[User, str | None]:
    """Who the code enrols and, if TOTP is required, the seed to load into an authenticator."""
    _, user = await _redeemable(session, settings=settings, code=code)
    if not totp_required(user) or user.totp_enabled:
        return user, None
    secret = new_totp_secret()
    user.totp_sealed = seal_secret(settings.secret_key, secret)
    await session.commit()
    return user, secret


async def complete(
    session: AsyncSession, *, settings: Settings, enrolment_in: EnrolmentComplete
) -> User:
    """Set the password (and enable TOTP when required) and burn the code, atomically."""
    row, user = await _redeemable(session, settings=settings, code=enrolment_in.code)
    if totp_required(user) and not user.totp_enabled:
        if user.totp_sealed is None or enrolment_in.totp_code is None:
            raise EnrolmentTotpRequired("Inspect the code, load the TOTP seed, then send a code.")
        secret = open_secret(settings.secret_key, user.totp_sealed)
        step = totp_match(secret, enrolment_in.totp_code, time.time(), None)
        if step is None:
            raise EnrolmentTotpRequired("The TOTP code does not match the seed.")
        user.totp_enabled = True
        user.totp_last_step = step
    user.password_hash = hash_password(enrolment_in.password)
    await end_sessions(session, user=user, reason="password reset")
    burned = await session.execute(
        update(EnrolmentCode)
        .where(EnrolmentCode.id == row.id, EnrolmentCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if getattr(burned, "rowcount", 0) != 1:  # a concurrent request redeemed it first
        await session.rollback()
        raise InvalidEnrolmentCode()
    await session.commit()
    return user


async def end_sessions(
    session: AsyncSession, *, user: User, reason: str, keep: AccessToken | None = None
) -> int:
    """Revoke every live token of the user but `keep`, and close their sockets once the
    caller commits (on every process); returns how many tokens were revoked."""
    query = update(AccessToken).where(
        AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(AccessToken.id != keep.id)
    result = await session.execute(query.values(revoked_at=utcnow()))
    realtime.publish(
        session,
        realtime.Kick(user_id=user.id, reason=reason, keep_token_id=keep.id if keep else None),
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _ensure_not_last_admin(session: AsyncSession, *, user: User) -> None:
    """The enabled administrators' rows are locked (PostgreSQL), so two administrators
    disabling each other at once cannot leave none: the second re-reads after the first."""
    if not user.is_admin:
        return
    enabled = await session.scalars(
        select(User.id)
        .where(User.platform_role == PlatformRole.ADMIN.value, User.disabled_at.is_(None))
        .with_for_update()
    )
    if not [admin_id for admin_id in enabled if admin_id != user.id]:
        raise LastAdministrator()


async def disable(session: AsyncSession, *, actor: User | None, user: User) -> User:
    """Disable an account: its sessions end and its sockets close at once, and it can no
    longer log in. The last enabled administrator cannot be disabled."""
    if actor is not None:
        ensure_can_manage(actor, user=user)
    if user.disabled_at is not None:
        return user
    await _ensure_not_last_admin(session, user=user)
    user.disabled_at = utcnow()
    await end_sessions(session, user=user, reason="account disabled")
    await session.commit()
    return user


async def enable(session: AsyncSession, *, actor: User | None, user: User) -> User:
    """Re-enable a disabled account; it logs in again (its old sessions stay revoked).

    A revoked service account is refused: its credential stays revoked, so enabling it would
    report an account that still cannot log in."""
    from app.service_accounts.exceptions import RevokedStaysRevoked
    from app.service_accounts.models import ServiceAccount

    if actor is not None:
        ensure_can_manage(actor, user=user)
    machine = await session.get(ServiceAccount, user.id)
    if machine is not None and machine.revoked_at is not None:
        raise RevokedStaysRevoked()
    user.disabled_at = None
    await session.commit()
    return user
