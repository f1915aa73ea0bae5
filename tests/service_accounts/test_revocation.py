"""Revoking a service account closes its live socket at once (4003), through a real server,
and its token no longer opens one (4001)."""

import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import connect

from tests import factories as f
from tests.e2e.server import Server, recv_until, ws_connect
from tests.e2e.test_ws import closed_with
from tests.service_accounts import helpers as sa

pytestmark = pytest.mark.e2e


async def test_revocation_closes_the_socket_within_a_second(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """The NCP revokes through the live server; the account's socket closes with 4003."""
    g = await f.group_with_roles(client, session)
    ncp = await f.actor(client, session, org=await f.organisation(session), ncp=True)
    account, credential = await sa.create(client, ncp, group_ids=[g.group_id])
    await sa.admit(client, g, account)
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as live:
        machine = await sa.login(live, account, credential)
        ws = await ws_connect(server, machine.token)
        await recv_until(ws, "caught_up")
        r = await live.post(
            f"/api/v1/service-accounts/{account['user_id']}/revoke", headers=ncp.headers
        )
        assert r.status_code == 200, r.text
        assert await closed_with(ws, timeout=1.0) == 4003
    async with connect(server.ws_url) as again:
        await again.send(json.dumps({"type": "auth", "token": machine.token}))
        assert await closed_with(again) == 4001
