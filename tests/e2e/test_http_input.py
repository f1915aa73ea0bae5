"""Hostile bodies over a real socket: the answer is a problem document and the kept-alive
connection stays usable (issue 15, finding 1: a 500 used to make uvicorn reset it)."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.server import Server


async def test_bad_bodies_leave_the_kept_alive_connection_usable(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """Invalid UTF-8 and deep nesting on the single post, then a normal request, all on one
    connection."""
    g = await f.group_with_roles(client, session)
    headers = g.member.headers | {"Content-Type": "application/json"}
    url = f"/api/v1/groups/{g.group_id}/messages"
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=server.base, limits=limits) as http:
        for body in (b'{"kind": "\xff"}', b"[" * 50_000 + b"]" * 50_000, b'"\\udc00"'):
            answer = await http.post(url, headers=headers, content=body)
            f.assert_problem(answer, 400, "core.malformed_json")
            assert answer.headers.get("connection") != "close"
        again = await http.get(f"/api/v1/groups/{g.group_id}", headers=g.member.headers)
        assert again.status_code == 200
