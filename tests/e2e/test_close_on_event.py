"""Losing access closes the affected sockets (4003) within a second, on the process that
served the change and, through Redis, on every other one.

Each case opens the member's socket on process A and makes the change through process B
(the same process in the single-process run), then waits at most one second for the close.
"""

import json
import os
from collections.abc import Awaitable, Callable, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import connect

from tests import factories as f
from tests.e2e.server import Server, recv, recv_until, running, ws_connect
from tests.e2e.test_ws import closed_with
from tests.messages.helpers import post

pytestmark = pytest.mark.e2e
REDIS_URL = os.environ.get("CORDON_TEST_REDIS_URL")
WITHIN = 1.0

Change = Callable[[httpx.AsyncClient, f.GroupSetup, f.Actor], Awaitable[httpx.Response]]


async def _disable(live: httpx.AsyncClient, g: f.GroupSetup, admin: f.Actor) -> httpx.Response:
    return await live.post(f"/api/v1/users/{g.member.id}/disable", headers=admin.headers)


async def _revoke(live: httpx.AsyncClient, g: f.GroupSetup, _: f.Actor) -> httpx.Response:
    url = f"/api/v1/devices/{g.member.device_id}/revoke"
    return await live.post(url, headers=g.member.headers)


async def _remove(live: httpx.AsyncClient, g: f.GroupSetup, _: f.Actor) -> httpx.Response:
    url = f"/api/v1/groups/{g.group_id}/members/{g.member.id}"
    return await live.delete(url, headers=g.coordinator.headers)


async def _status(live: httpx.AsyncClient, g: f.GroupSetup, status: str) -> httpx.Response:
    url = f"/api/v1/groups/{g.group_id}/status"
    return await live.post(url, headers=g.coordinator.headers, json={"status": status})


async def _close(live: httpx.AsyncClient, g: f.GroupSetup, _: f.Actor) -> httpx.Response:
    return await _status(live, g, "closed")


async def _archive(live: httpx.AsyncClient, g: f.GroupSetup, _: f.Actor) -> httpx.Response:
    """Archive a group that was closed before the socket opened (closing closes it too)."""
    return await _status(live, g, "archived")


async def _password(live: httpx.AsyncClient, g: f.GroupSetup, _: f.Actor) -> httpx.Response:
    """The member changes the password from another session of theirs."""
    other = await f.login(live, g.member.user)
    body = {"current_password": f.PASSWORD, "new_password": "a brand new passphrase"}
    return await live.post("/api/v1/auth/password", headers=other.headers, json=body)


CHANGES: dict[str, Change] = {
    "disable user": _disable,
    "revoke device": _revoke,
    "remove member": _remove,
    "close group": _close,
    "archive group": _archive,
    "change password elsewhere": _password,
}


async def _closes_within_a_second(
    a: Server, b: Server, client: httpx.AsyncClient, session: AsyncSession, change: str
) -> None:
    g = await f.group_with_roles(client, session)
    admin = await f.actor(client, session, admin=True, totp=True)
    async with httpx.AsyncClient(base_url=b.base, timeout=10) as live:
        if change == "archive group":
            assert (await _status(live, g, "closed")).status_code == 200
        ws = await ws_connect(a, g.member.token)
        await recv_until(ws, "caught_up")
        r = await CHANGES[change](live, g, admin)
        assert r.status_code in (200, 204), r.text
        assert await closed_with(ws, timeout=WITHIN) == 4003
        if change in ("disable user", "revoke device"):
            async with connect(a.ws_url) as again:
                await again.send(json.dumps({"type": "auth", "token": g.member.token}))
                assert await closed_with(again) == 4001


@pytest.mark.parametrize("change", list(CHANGES))
async def test_change_closes_sockets_on_one_process(
    server: Server, client: httpx.AsyncClient, session: AsyncSession, change: str
):
    """The in-process broker: the process that committed the change closes the socket."""
    await _closes_within_a_second(server, server, client, session, change)


@pytest.fixture(scope="module")
def two_processes(database_url: str) -> Iterator[tuple[Server, Server]]:
    """Two server processes sharing the test database and Redis."""
    assert REDIS_URL is not None
    with running(database_url, REDIS_URL) as a, running(database_url, REDIS_URL) as b:
        yield a, b


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="CORDON_TEST_REDIS_URL not set")
@pytest.mark.parametrize("change", list(CHANGES))
async def test_change_closes_sockets_on_another_process(
    two_processes: tuple[Server, Server],
    client: httpx.AsyncClient,
    session: AsyncSession,
    change: str,
):
    """Through Redis: the socket on A closes when the change is made through B."""
    a, b = two_processes
    await _closes_within_a_second(a, b, client, session, change)


async def test_password_change_spares_the_changing_session(
    server: Server, client: httpx.AsyncClient, session: AsyncSession
):
    """The socket of the session that changed the password stays open and keeps receiving."""
    g = await f.group_with_roles(client, session)
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as live:
        ws = await ws_connect(server, g.member.token)
        await recv_until(ws, "caught_up")
        body = {"current_password": f.PASSWORD, "new_password": "a brand new passphrase"}
        r = await live.post("/api/v1/auth/password", headers=g.member.headers, json=body)
        assert r.status_code == 200, r.text
        seq = (await post(live, g.coordinator, g.group_id)).json()["seq"]
        frame = await recv(ws, timeout=5)
        while frame.get("kind") != "alert":
            frame = await recv(ws, timeout=5)
        assert frame["seq"] == seq
        await ws.close()
