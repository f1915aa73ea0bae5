"""Bad input of every shape gets a 4xx problem document, never a 500 or a traceback."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation
from tests import factories as f
from tests.factories import assert_problem


async def test_malformed_json(client: httpx.AsyncClient):
    """A body that is not JSON is a 400 with its own code."""
    r = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(r, 400, "core.malformed_json")


async def test_oversized_body_by_content_length(
    client: httpx.AsyncClient, session: AsyncSession, settings
):
    """A declared body over the limit is refused before it is read, and nothing is written."""
    admin = await f.actor(client, session, admin=True, totp=True)
    before = await session.scalar(select(func.count()).select_from(Organisation))
    big = {"name": "x" * (settings.max_request_bytes + 10), "country_code": "BE", "region": "EUR"}
    r = await client.post("/api/v1/organisations", headers=admin.headers, json=big)
    assert_problem(r, 413, "core.too_large")
    assert await session.scalar(select(func.count()).select_from(Organisation)) == before


async def test_oversized_chunked_body(client: httpx.AsyncClient, settings):
    """A chunked body with no Content-Length is cut off at the limit too."""

    async def chunks():
        for _ in range(settings.max_request_bytes // 65536 + 2):
            yield b"x" * 65536

    r = await client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(r, 413, "core.too_large")


async def test_unknown_route_and_method(client: httpx.AsyncClient):
    """Unknown paths and wrong methods are problem documents too."""
    assert_problem(await client.get("/api/v1/nope"), 404, "core.not_found")
    assert_problem(await client.put("/api/v1/auth/login"), 405, "core.method_not_allowed")


async def test_invalid_path_parameter(client: httpx.AsyncClient, session: AsyncSession):
    """A path id that is not a UUID is a 422 naming the parameter."""
    me = await f.actor(client, session)
    r = await client.get("/api/v1/groups/not-a-uuid", headers=me.headers)
    body = assert_problem(r, 422, "core.invalid_input")
    assert "group_id" in str(body["detail"])


async def test_responses_carry_request_id(client: httpx.AsyncClient):
    """Every response names the request id that its log line carries."""
    r = await client.get("/healthz")
    assert len(r.headers["x-request-id"]) == 32
