"""Routes for enrolment, login, logout, session revocation and TOTP."""

from fastapi import APIRouter, Request

from app.auth import service
from app.auth.dependencies import CurrentPrincipal
from app.auth.schemas import (
    LoginRequest,
    PasswordChange,
    RevokedRead,
    TokenRead,
    TotpConfirm,
    TotpSetupRead,
)
from app.core.deps import SessionDep, SettingsDep
from app.core.proxies import client_address
from app.core.routing import CordonRoute
from app.users import service as users_service
from app.users.models import User
from app.users.schemas import EnrolmentComplete, EnrolmentInfo, EnrolmentInspect, UserRead

router = APIRouter(route_class=CordonRoute)


@router.post("/enrolment/inspect", response_model=EnrolmentInfo)
async def inspect_enrolment(
    body: EnrolmentInspect, session: SessionDep, settings: SettingsDep
) -> EnrolmentInfo:
    """Say whom a code enrols and, where TOTP is required, hand out the seed to load."""
    user, secret = await users_service.inspect(session, settings=settings, code=body.code)
    return EnrolmentInfo(
        username=user.username,
        display_name=user.display_name,
        totp_required=users_service.totp_required(user) and not user.totp_enabled,
        totp_secret=secret,
        otpauth_uri=service.provisioning_uri(secret, user) if secret else None,
    )


@router.post("/enrolment/complete", response_model=UserRead)
async def complete_enrolment(
    body: EnrolmentComplete, session: SessionDep, settings: SettingsDep
) -> User:
    """Set the password with a one-time code; the code cannot be used again."""
    return await users_service.complete(session, settings=settings, enrolment_in=body)


@router.post("/login", response_model=TokenRead)
async def login(
    body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep
) -> TokenRead:
    """Exchange credentials for a bearer token bound to one device."""
    address = client_address(request, settings.trusted_networks)
    issued = await service.login(session, settings=settings, login_in=body, address=address)
    return TokenRead(
        access_token=issued.secret,
        expires_at=issued.token.expires_at,
        device_id=issued.token.device_id,
        user=UserRead.model_validate(issued.user),
    )


@router.post("/logout", status_code=204)
async def logout(session: SessionDep, principal: CurrentPrincipal) -> None:
    """Revoke the token used for this call."""
    await service.revoke_token(session, token=principal.token)


@router.post("/sessions/revoke-all", response_model=RevokedRead)
async def revoke_all_sessions(session: SessionDep, principal: CurrentPrincipal) -> RevokedRead:
    """Revoke every token of the caller, on every device (this one included)."""
    return RevokedRead(revoked=await service.revoke_all(session, user=principal.user))


@router.post("/password", response_model=RevokedRead)
async def change_password(
    body: PasswordChange,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> RevokedRead:
    """Change the caller's password, proven by the current one (and TOTP when it is on);
    every other session of the user ends and its sockets close. `revoked` counts them."""
    ended = await service.change_password(
        session,
        settings=settings,
        principal=principal,
        change_in=body,
        address=client_address(request, settings.trusted_networks),
    )
    return RevokedRead(revoked=ended)


@router.post("/totp/setup", response_model=TotpSetupRead)
async def setup_totp(
    session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> TotpSetupRead:
    """Start TOTP enrolment; nothing changes until a code is confirmed."""
    secret = await service.start_totp(session, settings=settings, user=principal.user)
    return TotpSetupRead(
        secret=secret, otpauth_uri=service.provisioning_uri(secret, principal.user)
    )


@router.post("/totp/confirm", response_model=UserRead)
async def confirm_totp(
    body: TotpConfirm, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> User:
    """Turn TOTP on by proving the authenticator works."""
    await service.confirm_totp(session, settings=settings, user=principal.user, code=body.code)
    return principal.user
