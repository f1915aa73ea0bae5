"""The served OpenAPI document: FastAPI's, plus the `Problem` schema every problem response
of `app.core.routing.CordonRoute` points at."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field


class FieldError(BaseModel):
    """One reason a request failed validation (422), without the submitted value."""

    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document; clients branch on `code` (app/core/errors.py)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="Stable machine code, e.g. group.not_found")
    errors: list[FieldError] | None = Field(default=None, description="422 only")


def install_openapi(app: FastAPI) -> None:
    """Serve FastAPI's schema with `Problem` (and its parts) among the components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problem.pop("$defs", {}))
            components["Problem"] = problem
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
