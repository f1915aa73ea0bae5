"""The authenticated caller, resolved from an `Authorization: Bearer` header."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth import service
from app.auth.exceptions import AdminRequired, InvalidToken
from app.auth.service import Principal
from app.core.deps import SessionDep, SettingsDep

bearer_scheme = HTTPBearer(auto_error=False, description="Opaque token from /api/v1/auth/login")


async def current_principal(
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Every authenticated route starts here."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken()
    return await service.authenticate(session, settings=settings, secret=credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    """Platform administration routes only."""
    if not principal.user.is_admin:
        raise AdminRequired()
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
