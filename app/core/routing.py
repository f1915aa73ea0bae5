"""`CordonRoute`, the route class of every domain router: one body reader, checks that need
only the headers before the body is read, and the route's problem responses in OpenAPI.

What a route can answer besides its success is derived from what it is built of, not written
per route: the `CordonError`s its endpoint and its dependencies raise, read from their code
and the code of the app functions they call (`app.core.raising`), plus what they declare
with `@raises(...)` where the code cannot show it (an error forwarded from a group-commit
worker); a JSON body adds 400/413/415, anything validated 422.
`app.core.openapi` renders them as `application/problem+json` with the `Problem` schema, and
the API fuzzing test (`tests/e2e/test_api_fuzz.py`) fails on any status not listed.
"""

from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response

from app.core.body import MISSING, MalformedJSON, UnsupportedMediaType, read_json
from app.core.errors import PROBLEM_JSON, CordonError, InvalidInput, TooLarge
from app.core.raising import RAISES, raised_by

F = TypeVar("F", bound=Callable[..., Any])
BEFORE_BODY = "__cordon_before_body__"
BODY_ERRORS: tuple[type[CordonError], ...] = (MalformedJSON, TooLarge, UnsupportedMediaType)
HeaderCheck = Callable[[Request], None]


def raises(*errors: type[CordonError]) -> Callable[[F], F]:
    """Declare the problems a dependency or endpoint can answer with (for OpenAPI)."""

    def mark(func: F) -> F:
        setattr(func, RAISES, (*getattr(func, RAISES, ()), *errors))
        return func

    return mark


def before_body(check: HeaderCheck) -> Callable[[F], F]:
    """Attach a check on the request's headers alone (e.g. "a bearer token is present") to a
    dependency: a route that depends on it runs the check before reading its body, so an
    anonymous caller cannot make the server parse anything."""

    def mark(func: F) -> F:
        setattr(func, BEFORE_BODY, check)
        return func

    return mark


def _calls(dependant: Dependant) -> Iterator[Any]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def route_errors(route: APIRoute) -> list[type[CordonError]]:
    """Every problem the route can give, in a stable order: what its endpoint and its
    dependencies raise, the body reader's problems, 422 for anything validated."""
    found: list[type[CordonError]] = []
    for call in _calls(route.dependant):  # the endpoint itself and every dependency
        found.extend(sorted(raised_by(call), key=lambda e: (e.status, e.code)))
    every = list(_dependants(route.dependant))
    if route.body_field is not None:
        found.extend(BODY_ERRORS)
    if route.body_field is not None or any(d.path_params or d.query_params for d in every):
        found.append(InvalidInput)
    return list(dict.fromkeys(found))


def problem_responses(errors: list[type[CordonError]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries: one per status, naming the codes behind it."""
    by_status: dict[int, list[type[CordonError]]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error)
    responses: dict[int | str, dict[str, Any]] = {}
    for status in sorted(by_status):
        codes = sorted({e.code for e in by_status[status]})
        responses[status] = {
            "description": f"{by_status[status][0].title} ({', '.join(codes)})",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return responses


class CordonRoute(APIRoute):
    """An APIRoute whose JSON body goes through `app.core.body` and whose OpenAPI entry lists
    its problem responses; `template` is its full path template once the app is built
    (`stamp_templates`), which authorisation by route (a service account's scope) names."""

    template: str | None = None

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.responses = {**problem_responses(route_errors(self)), **self.responses}

    def _reads_json(self) -> bool:
        return self.body_field is not None and not isinstance(
            self.body_field.field_info, params.Form
        )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self._reads_json():
            return handler
        found = (getattr(call, BEFORE_BODY, None) for call in _calls(self.dependant))
        header_checks: list[HeaderCheck] = list(dict.fromkeys(c for c in found if c))

        async def read_body_then_handle(request: Request) -> Response:
            for check in header_checks:
                check(request)
            settings = request.app.state.settings
            body = await read_json(request, max_bytes=settings.max_request_bytes)
            if body is not MISSING:
                request._json = body  # what FastAPI's `await request.json()` returns
            return await handler(request)

        return read_body_then_handle


def stamp_templates(routes: Iterable[Any]) -> None:
    """Give every `CordonRoute` its full template (`/api/v1/groups/{group_id}`): the route
    object in a request's scope knows only its path inside its router (`/{group_id}`)."""
    for context in iter_route_contexts(list(routes)):
        if isinstance(context.original_route, CordonRoute):
            context.original_route.template = context.path_format
