"""Login, token issue and revocation, TOTP enrolment and login throttling."""

import math
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import realtime
from app.auth.exceptions import (
    InvalidCredentials,
    InvalidToken,
    InvalidTotp,
    LoginThrottled,
    TotpAlreadyEnabled,
    TotpNotPending,
    TotpRequired,
)
from app.auth.models import AccessToken, LoginFailure
from app.auth.schemas import LoginRequest, PasswordChange
from app.core.config import Settings
from app.core.security import (
    hash_password,
    new_token,
    new_totp_secret,
    open_secret,
    seal_secret,
    token_digest,
    totp_match,
    totp_uri,
    verify_password,
)
from app.core.types import utcnow
from app.devices import service as devices_service
from app.devices.models import Device
from app.service_accounts.models import ServiceAccount
from app.users import service as users_service
from app.users.models import User


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, the device the token is bound to, and the token row; for a
    service account, its scope (`app.service_accounts.scopes` checks it), else None."""

    user: User
    device: Device
    token: AccessToken
    service: ServiceAccount | None = None


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token; `secret` is shown once and never stored."""

    secret: str
    token: AccessToken
    user: User


async def _check_throttle(
    session: AsyncSession, *, settings: Settings, username: str, address: str
) -> None:
    """Refuse before checking the password once an account or address failed too often,
    saying when the oldest counted failure leaves the window (`Retry-After`)."""
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    waits = []
    for column, value, limit in (
        (LoginFailure.username, username, settings.login_max_failures),
        (LoginFailure.address, address, settings.address_max_failures),
    ):
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(LoginFailure.at)).where(
                    column == value, LoginFailure.at > now - window
                )
            )
        ).one()
        if count >= limit and oldest is not None:
            waits.append((oldest + window - now).total_seconds())
    if waits:
        raise LoginThrottled(retry_after_seconds=max(1, math.ceil(max(waits))))


async def _record_failure(session: AsyncSession, *, username: str, address: str) -> None:
    """Failures are committed on their own, so a refused login still counts."""
    await session.rollback()
    session.add(LoginFailure(username=username, address=address, at=utcnow()))
    await session.commit()


def check_totp(user: User, *, settings: Settings, code: str | None) -> None:
    """Verify and consume a TOTP code for a user who has TOTP enabled."""
    if not user.totp_enabled or user.totp_sealed is None:
        return
    if code is None:
        raise TotpRequired()
    secret = open_secret(settings.secret_key, user.totp_sealed)
    step = totp_match(secret, code, time.time(), user.totp_last_step)
    if step is None:
        raise InvalidTotp()
    user.totp_last_step = step


async def login(
    session: AsyncSession, *, settings: Settings, login_in: LoginRequest, address: str
) -> IssuedToken:
    """Check password (and TOTP), then bind a new token to an existing or new device."""
    username = login_in.username.lower()
    await _check_throttle(session, settings=settings, username=username, address=address)
    user = await session.scalar(select(User).where(User.username == username))
    password_hash = user.password_hash if user is not None else None
    if (
        not verify_password(password_hash, login_in.password)
        or user is None
        or user.disabled_at is not None
        or user.is_service  # a service account logs in with its credential only
    ):
        await _record_failure(session, username=username, address=address)
        raise InvalidCredentials()
    try:
        check_totp(user, settings=settings, code=login_in.totp_code)
    except InvalidTotp:
        await _record_failure(session, username=username, address=address)
        raise
    if login_in.device is not None:
        device = await devices_service.create(session, user=user, device_in=login_in.device)
    else:
        assert login_in.device_id is not None
        device = await devices_service.get_own(session, user=user, device_id=login_in.device_id)
    await session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return await issue_token(session, settings=settings, user=user, device=device)


async def change_password(
    session: AsyncSession,
    *,
    settings: Settings,
    principal: Principal,
    change_in: PasswordChange,
    address: str,
) -> int:
    """Set a new password after proving the current one (and TOTP when it is on), then end
    every other session of the user; returns how many were ended. A wrong proof counts as a
    failed login, so a stolen token cannot guess the password faster than a login could."""
    user = principal.user
    await _check_throttle(session, settings=settings, username=user.username, address=address)
    if not verify_password(user.password_hash, change_in.current_password):
        await _record_failure(session, username=user.username, address=address)
        raise InvalidCredentials("The current password is wrong.")
    try:
        check_totp(user, settings=settings, code=change_in.totp_code)
    except InvalidTotp:
        await _record_failure(session, username=user.username, address=address)
        raise
    user.password_hash = hash_password(change_in.new_password)
    ended = await users_service.end_sessions(
        session, user=user, reason="password changed", keep=principal.token
    )
    await session.commit()
    return ended


async def issue_token(
    session: AsyncSession,
    *,
    settings: Settings,
    user: User,
    device: Device,
    ttl: timedelta | None = None,
) -> IssuedToken:
    """Create and commit a token for the device (valid `ttl`, by default the person's
    `token_ttl_hours`); return its one-time secret."""
    secret = new_token("cdn")
    token = AccessToken(
        token_digest=token_digest(settings.secret_key, secret),
        user_id=user.id,
        device_id=device.id,
        expires_at=utcnow() + (ttl or timedelta(hours=settings.token_ttl_hours)),
    )
    device.last_seen_at = utcnow()
    session.add(token)
    await session.commit()
    return IssuedToken(secret=secret, token=token, user=user)


# Built once: every request runs it, and SQLAlchemy keeps the cache key of a statement
# object, which it would otherwise work out again per request (~0.1 ms here).
_PRINCIPAL = (
    select(AccessToken, Device, User)
    .join(Device, Device.id == AccessToken.device_id)
    .join(User, User.id == AccessToken.user_id)
    .where(AccessToken.token_digest == bindparam("digest"))
)


async def authenticate(session: AsyncSession, *, settings: Settings, secret: str) -> Principal:
    """Resolve a bearer secret to a live token, device and user, or raise `auth.invalid_token`."""
    digest = token_digest(settings.secret_key, secret)
    row = (await session.execute(_PRINCIPAL, {"digest": digest})).first()
    if row is None:
        raise InvalidToken()
    token, device, user = row
    now = utcnow()
    if (
        token.revoked_at is not None
        or token.expires_at <= now
        or device.revoked_at is not None
        or user.disabled_at is not None
    ):
        raise InvalidToken()
    if not user.is_service:  # a person: no scope row to read
        return Principal(user=user, device=device, token=token)
    service = await session.get(ServiceAccount, user.id)
    if service is None or service.revoked_at is not None:
        raise InvalidToken()
    return Principal(user=user, device=device, token=token, service=service)


async def revoke_token(session: AsyncSession, *, token: AccessToken) -> None:
    """Log out: this token stops working at once, and the device's live sockets close."""
    token.revoked_at = utcnow()
    realtime.publish(session, realtime.Kick(device_id=token.device_id, reason="logged out"))
    await session.commit()


async def revoke_all(session: AsyncSession, *, user: User) -> int:
    """Revoke every live token of a user and close their sockets; returns how many."""
    ended = await users_service.end_sessions(session, user=user, reason="sessions revoked")
    await session.commit()
    return ended


async def start_totp(session: AsyncSession, *, settings: Settings, user: User) -> str:
    """Create a pending TOTP seed; it is enabled only once a code from it is confirmed."""
    if user.totp_enabled:
        raise TotpAlreadyEnabled()
    secret = new_totp_secret()
    user.totp_sealed = seal_secret(settings.secret_key, secret)
    await session.commit()
    return secret


async def confirm_totp(session: AsyncSession, *, settings: Settings, user: User, code: str) -> None:
    """Enable TOTP after proving the authenticator produces valid codes."""
    if user.totp_enabled:
        raise TotpAlreadyEnabled()
    if user.totp_sealed is None:
        raise TotpNotPending()
    secret = open_secret(settings.secret_key, user.totp_sealed)
    step = totp_match(secret, code, time.time(), None)
    if step is None:
        raise InvalidTotp()
    user.totp_enabled = True
    user.totp_last_step = step
    await session.commit()


def provisioning_uri(secret: str, user: User) -> str:
    """otpauth:// URI for the user's authenticator app."""
    return totp_uri(secret, user.username)
