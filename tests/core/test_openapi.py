"""The served OpenAPI document carries the error vocabulary (issue 15, finding 12) and
bounds every integer a client sends (finding 2); `/docs` and `/redoc` need no CDN (14)."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.docs import DOCS_CSP

PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}
BIGINT_MAX = 2**63 - 1


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in app.openapi()["paths"].items()
        for method, op in ops.items()
    ]


def test_every_problem_response_is_problem_json(app: FastAPI):
    """Every 4xx of every operation, 422 included, is `application/problem+json` with the
    `Problem` schema, and the `Problem` component exists."""
    schema = app.openapi()
    assert {"type", "title", "status", "detail", "code"} <= set(
        schema["components"]["schemas"]["Problem"]["required"]
    )
    for method, path, op in _operations(app):
        for status, response in op["responses"].items():
            if status.startswith("4"):
                assert response["content"] == {"application/problem+json": PROBLEM}, (
                    method,
                    path,
                    status,
                )


def test_problem_responses_follow_from_what_a_route_is_built_of(app: FastAPI):
    """Authenticated routes list 401, group routes 403 and 404, JSON bodies 400/413/415,
    validated input 422; public routes list no 401."""
    ops = {(m, p): set(op["responses"]) for m, p, op in _operations(app)}
    assert {"401", "403", "404", "409", "400", "413", "415", "422"} <= ops[
        ("POST", "/api/v1/groups/{group_id}/messages")
    ]
    assert {"401", "403", "404", "422"} <= ops[("GET", "/api/v1/groups/{group_id}/members")]
    assert "429" in ops[("POST", "/api/v1/auth/login")]
    assert ops[("GET", "/healthz")] == {"200"}
    for (method, path), statuses in ops.items():
        if path.startswith("/api/v1/") and not path.startswith("/api/v1/auth/"):
            assert "401" in statuses, (method, path)
        if "{" in path:
            assert {"404", "422"} <= statuses, (method, path)


def _integers(node: Any, components: dict[str, Any], seen: frozenset[str]) -> list[Any]:
    if isinstance(node, list):
        return [i for child in node for i in _integers(child, components, seen)]
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else _integers(components[name], components, seen | {name})
    found = [node] if node.get("type") == "integer" else []
    return found + [i for child in node.values() for i in _integers(child, components, seen)]


def test_every_integer_a_client_sends_is_bounded(app: FastAPI):
    """Finding 2, for every route at once: each integer in a path, query or request body
    has a maximum a database column can hold."""
    schema = app.openapi()
    components = schema["components"]["schemas"]
    for method, path, op in _operations(app):
        sent = [p["schema"] for p in op.get("parameters", [])] + [op.get("requestBody", {})]
        for integer in _integers(sent, components, frozenset()):
            top = integer.get("maximum", integer.get("exclusiveMaximum"))
            assert top is not None and top <= BIGINT_MAX + 1, (method, path, integer)
            assert integer.get("minimum", -BIGINT_MAX) >= -BIGINT_MAX - 1, (method, path)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_api_docs_load_nothing_from_elsewhere(client: httpx.AsyncClient, page: str):
    """Finding 14: the pages name only this server's assets, run no inline script, and
    carry the strict CSP; the assets are served, nothing else under their path is."""
    answer = await client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == DOCS_CSP
    assert "http://" not in answer.text and "https://" not in answer.text
    assert "<script>" not in answer.text
    scripts = [s.split('"')[0] for s in answer.text.split('<script src="')[1:]]
    assert scripts and all(s.startswith("/docs/assets/") for s in scripts)
    for src in scripts:
        asset = await client.get(src)
        assert asset.status_code == 200, src
        assert asset.headers["content-type"].startswith("text/javascript")
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert len(bundle.content) > 100_000
    missing = await client.get("/docs/assets/app.py")
    assert missing.status_code == 404
    assert "script-src 'self';" in DOCS_CSP and "unsafe-inline" not in DOCS_CSP.split(";")[1]


def test_raised_errors_are_read_from_the_code():
    """`raised_by` follows calls into the app's functions, drops what a `try` catches, and
    adds what a function declares."""
    from app.core.body import MalformedJSON
    from app.core.raising import raised_by
    from app.groups.dependencies import group_access
    from app.groups.exceptions import GroupNotFound
    from app.messages import cursor, posting
    from app.messages.exceptions import ClientMsgIdReused, InvalidCursor
    from app.users.router import read_me

    assert raised_by(cursor.decode) == {InvalidCursor}  # MalformedJSON is caught inside
    assert MalformedJSON in raised_by(posting._answer)  # through read_json and decode_json
    assert raised_by(posting.post_message) == frozenset()  # it renders every CordonError
    assert GroupNotFound in raised_by(group_access)
    assert ClientMsgIdReused in raised_by(posting.store)  # declared: forwarded by a worker
    assert raised_by(read_me) == frozenset()
