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
from app.core.routing import CordonRoute, before_body, raises
from app.service_accounts import scopes
from app.service_accounts.exceptions import OutOfScope

ROUTE_TEMPLATE = "cordon.route_template"

bearer_scheme = HTTPBearer(auto_error=False, description="Opaque token from /api/v1/auth/login")


def require_bearer_header(request: Request) -> None:
    """`auth.invalid_token` unless the request carries `Authorization: Bearer <token>`: what
    `current_principal` checks first, run before the body is read (`app.core.routing`)."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not credentials:
        raise InvalidToken()


def route_template(request: Request) -> str | None:
    """The matched route's path template (`/api/v1/groups/{group_id}`), which a service
    account's scope names; the plain-ASGI post sets `ROUTE_TEMPLATE` itself."""
    route = request.scope.get("route")
    if isinstance(route, CordonRoute) and route.template is not None:
        return route.template
    template: str | None = request.scope.get(ROUTE_TEMPLATE)
    return template


@before_body(require_bearer_header)
@raises(InvalidToken, OutOfScope)
async def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """Every authenticated route starts here; a service account's token is refused
    (`service_account.out_of_scope`) on a route its operations do not cover."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken()
    principal = await service.authenticate(
        session, settings=settings, secret=credentials.credentials
    )
    scopes.check_route(principal.service, method=request.method, template=route_template(request))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@raises(AdminRequired)
async def require_admin(principal: CurrentPrincipal) -> Principal:
    """Platform administration routes only."""
    if not principal.user.is_admin or principal.service is not None:
        raise AdminRequired()
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
