"""The authenticated caller, resolved from an `Authorization: Bearer` header."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import Request

from app.auth import service
from app.auth.exceptions import AdminRequired, InvalidToken
from app.auth.service import Principal
from app.core.deps import SessionDep, SettingsDep
from app.core.routing import before_body, raises

bearer_scheme = HTTPBearer(auto_error=False, description="Opaque token from /api/v1/auth/login")


def require_bearer_header(request: Request) -> None:
    """`auth.invalid_token` unless the request carries `Authorization: Bearer <token>`: what
    `current_principal` checks first, run before the body is read (`app.core.routing`)."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not credentials:
        raise InvalidToken()


@before_body(require_bearer_header)
@raises(InvalidToken)
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


@raises(AdminRequired)
async def require_admin(principal: CurrentPrincipal) -> Principal:
    """Platform administration routes only."""
    if not principal.user.is_admin:
        raise AdminRequired()
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
