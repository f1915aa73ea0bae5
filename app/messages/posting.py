"""`POST /api/v1/groups/{group_id}/messages` served as a plain ASGI app.

Posting one message is the path every alert takes from a sender to 200 sockets, and its
latency is the product's (docs/benchmarks.md). Routed through FastAPI, a post spent about
1.3 ms of its ~5 ms of CPU matching the route and resolving a tree of nine dependencies
before any of them did work. So `SinglePostRoute`, the innermost of the app's middleware
(every middleware `create_app` adds still runs), hands this one route to `post_message`
here, which calls the *same* dependency functions FastAPI resolves — the bearer scheme,
`current_principal`, `group_access`, the posting roles, `writable_group`, `valid_post` — and
the same body reader, and answers with the same problem documents. The FastAPI route in
`app.messages.router` stays: it documents the route in OpenAPI and serves what this handler
does not take (a group id that is not a UUID), through `store` below.

Authorisation comes before the body is parsed: authentication (401), membership (404),
role (403) and archived group (409), then the body is read and parsed by the app's one
reader, `app.core.body.read_json` (413, 415, 400: the code FastAPI routes use through
`app.core.routing.CordonRoute`), and only then validated (422). A caller who may not post
never makes the server parse a byte. (FastAPI routes check the bearer header before reading
the body, then parse before resolving their dependencies: the two orders differ only for a
request that is both unauthorised and malformed, and each refuses it.)
"""

import re
import uuid
from collections.abc import Awaitable
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.dependencies import (
    ROUTE_TEMPLATE,
    bearer_scheme,
    current_principal,
    require_bearer_header,
)
from app.auth.service import Principal
from app.core.asgi import route_path
from app.core.body import MISSING, read_json
from app.core.config import Settings
from app.core.encoding import json_bytes
from app.core.errors import (
    CordonError,
    cordon_problem,
    http_problem,
    unexpected_problem,
    validation_problem,
)
from app.core.routing import raises
from app.groups.dependencies import POSTING_ROLES, check_role, group_access
from app.groups.service import GroupAccess
from app.messages import service
from app.messages.batching import Committer, Post
from app.messages.dependencies import valid_post, writable_group
from app.messages.exceptions import (
    ClientMsgIdReused,
    InvalidRecipients,
    ParentNotFound,
    RecipientsRequired,
)
from app.messages.schemas import MessageCreate

POST_TEMPLATE = "/api/v1/groups/{group_id}/messages"
# The route's path with a UUID group id (any other id is left to FastAPI's 422).
POST_PATH = re.compile(
    r"/api/v1/groups/([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{12})/messages"
)


@raises(ClientMsgIdReused, InvalidRecipients, RecipientsRequired, ParentNotFound)
async def store(
    message_in: MessageCreate,
    *,
    access: GroupAccess,
    principal: Principal,
    committer: Committer,
    session: AsyncSession,
) -> Response:
    """Store an authorised, checked post; answers only after the commit (201, or 200 for a
    replay), or raises what the group commit refused it with. Shared by this handler and the
    FastAPI route."""
    post = Post(
        group_id=access.group.id,
        user_id=principal.user.id,
        device_id=principal.device.id,
        message_in=message_in,
    )
    # Hand the pooled connection back while the group commit runs on its own one, so
    # waiting posters never starve the pool the committer needs.
    await session.close()
    posted = await committer.submit(post)
    return Response(
        json_bytes(service.render(posted.item)),
        status_code=201 if posted.created else 200,
        media_type="application/json",
    )


def _validated(body: Any) -> MessageCreate:
    """The body validated as FastAPI validates a body parameter, errors located under "body"."""
    if body is MISSING:
        error = {"type": "missing", "loc": ("body",), "msg": "Field required"}
        raise RequestValidationError([error])
    try:
        return MessageCreate.model_validate(body, from_attributes=True)  # as FastAPI does
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        ) from None


async def _answer(request: Request, group_id: uuid.UUID) -> Response:
    """The route's dependencies (authorisation first), then the body, then `store`; failures
    raise."""
    app: Any = request.app
    settings: Settings = app.state.settings
    require_bearer_header(request)
    async with app.state.sessionmaker() as session:
        credentials = await bearer_scheme(request)
        principal = await current_principal(request, session, settings, credentials)
        access = await group_access(group_id, session, principal)
        check_role(access, POSTING_ROLES)
        access = await writable_group(access)
        await session.close()  # no pooled connection held while a slow client sends its body
        body = await read_json(request, max_bytes=settings.max_request_bytes)
        message_in = await valid_post(_validated(body), access, principal, settings)
        return await store(
            message_in,
            access=access,
            principal=principal,
            committer=app.state.committer,
            session=session,
        )


async def post_message(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app of the route; `scope["path_params"]["group_id"]` is set by
    `SinglePostRoute`."""
    request = Request(scope, receive)
    try:
        response = await _answer(request, uuid.UUID(scope["path_params"]["group_id"]))
    except CordonError as exc:
        response = cordon_problem(exc)
    except RequestValidationError as exc:
        response = validation_problem(exc.errors())
    except StarletteHTTPException as exc:
        response = http_problem(exc)
    except Exception as exc:
        response = unexpected_problem(exc)
    await response(scope, receive, send)


class SinglePostRoute:
    """Middleware, added innermost: the single-message post goes to `post_message`, every
    other request on to FastAPI's exception handling and router."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "http" and scope["method"] == "POST":
            posted_to = POST_PATH.fullmatch(route_path(scope))
            if posted_to is not None:
                scope["path_params"] = {"group_id": posted_to.group(1)}
                scope[ROUTE_TEMPLATE] = POST_TEMPLATE
                return post_message(scope, receive, send)
        return self.app(scope, receive, send)
