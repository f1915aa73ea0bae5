"""The error vocabulary and the one renderer of RFC 9457 problem documents.

Every error a client can see has a stable machine `code` (like synapse's `Codes`), so clients
branch on codes, never on wording. Tree::

    CordonError                      base: code, status, title, detail
     +-- NotFound (404)              core.not_found
     +-- Unauthenticated (401)       auth.unauthenticated
     +-- Forbidden (403)             core.forbidden
     +-- Conflict (409)              core.conflict
     +-- InvalidInput (422)          core.invalid_input
     +-- TooLarge (413)              core.too_large
     +-- TooManyRequests (429)       core.rate_limited

Domains subclass these in their own `exceptions.py` with a more specific code.
"""

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("cordon.errors")


class CordonError(Exception):
    """An expected failure that maps to a 4xx problem response."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "core.bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(CordonError):
    status, code, title = 404, "core.not_found", "Not found"


class Unauthenticated(CordonError):
    status, code, title = 401, "auth.unauthenticated", "Authentication required"


class Forbidden(CordonError):
    status, code, title = 403, "core.forbidden", "Not allowed"


class Conflict(CordonError):
    status, code, title = 409, "core.conflict", "Conflict"


class InvalidInput(CordonError):
    status, code, title = 422, "core.invalid_input", "Invalid input"


class TooLarge(CordonError):
    status, code, title = 413, "core.too_large", "Request too large"


class TooManyRequests(CordonError):
    status, code, title = 429, "core.rate_limited", "Too many requests"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """One problem document; `type` points at the code's documentation anchor."""
    return {
        "type": f"https://cordon.invalid/problems#{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def error_body(exc: CordonError) -> dict[str, Any]:
    """The problem document of an expected failure (also used inside batch answers)."""
    return problem_body(exc.status, exc.code, exc.title, exc.detail, **exc.extra)


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """Render one problem document as the response."""
    body = problem_body(status, code, title, detail, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429 and "retry_after_seconds" in extra:
        headers = {"Retry-After": str(extra["retry_after_seconds"])}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_problem(raw_errors: Sequence[Any]) -> JSONResponse:
    """The problem of a request that failed validation (pydantic's error dicts, with `loc`
    starting at "body", "path", ...): field paths and reasons, without echoing the submitted
    values back; a body that is not JSON at all is a 400 of its own."""
    errors = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in raw_errors
    ]
    if any(err["type"] == "json_invalid" for err in errors):
        return problem(400, "core.malformed_json", "Malformed JSON", "The body is not valid JSON.")
    first = errors[0] if errors else {"loc": [], "msg": "invalid"}
    where = ".".join(first["loc"][1:]) or "body"
    detail = f"{where}: {first['msg']}"
    return problem(422, "core.invalid_input", "Invalid input", detail, errors=errors)


def cordon_problem(exc: CordonError) -> JSONResponse:
    """The response of an expected failure."""
    return problem(exc.status, exc.code, exc.title, exc.detail, **exc.extra)


def http_problem(exc: StarletteHTTPException) -> JSONResponse:
    """The response of Starlette's own HTTP errors (unknown path, wrong method, 413)."""
    codes = {404: "core.not_found", 405: "core.method_not_allowed", 413: "core.too_large"}
    code = codes.get(exc.status_code, f"core.http_{exc.status_code}")
    return problem(exc.status_code, code, str(exc.detail), str(exc.detail))


def unexpected_problem(exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered without one."""
    logger.exception("unhandled error", exc_info=exc)
    return problem(500, "core.internal", "Internal error", "The server failed; see its logs.")


async def _on_cordon_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CordonError)
    return cordon_problem(exc)


async def _on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc.errors())


async def _on_http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return http_problem(exc)


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    return unexpected_problem(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the renderers so no response ever carries a traceback."""
    app.add_exception_handler(CordonError, _on_cordon_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
