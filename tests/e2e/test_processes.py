"""Several server processes: fan-out through Redis, Redis outages, and SIGKILL mid-load."""

import asyncio
import os
import shutil

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.server import RedisServer, recv_items, recv_until, running, ws_connect
from tests.messages.helpers import post, sync_all

pytestmark = pytest.mark.e2e
REDIS_URL = os.environ.get("CORDON_TEST_REDIS_URL")


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="CORDON_TEST_REDIS_URL not set")
async def test_two_processes_share_redis(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession
):
    """A device on process A receives, in order, what was posted through process B."""
    g = await f.group_with_roles(client, session)
    with running(database_url, REDIS_URL) as a, running(database_url, REDIS_URL) as b:
        ws = await ws_connect(a, g.observer.token)
        await recv_until(ws, "caught_up")
        async with httpx.AsyncClient(base_url=b.base, timeout=10) as live:
            sent = [(await post(live, g.member, g.group_id)).json()["seq"] for _ in range(20)]
        assert [x["seq"] for x in await recv_items(ws, 20)] == sent
        await ws.close()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
async def test_redis_outage_loses_nothing(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession
):
    """With Redis killed mid-stream, both processes keep serving and the device on A still
    gets every item posted through B, exactly once and in order; Redis returns by itself."""
    g = await f.group_with_roles(client, session)
    redis = RedisServer()
    redis.start()
    try:
        with running(database_url, redis.url) as a, running(database_url, redis.url) as b:
            ws = await ws_connect(a, g.observer.token)
            await recv_until(ws, "caught_up")
            async with httpx.AsyncClient(base_url=b.base, timeout=10) as live:
                sent = [(await post(live, g.member, g.group_id)).json()["seq"] for _ in range(5)]
                redis.stop()
                for _ in range(10):
                    r = await post(live, g.member, g.group_id)
                    assert r.status_code == 201, r.text
                    sent.append(r.json()["seq"])
                redis.start()
                await asyncio.sleep(0.5)  # let the brokers notice (not asserted on)
                sent += [(await post(live, g.member, g.group_id)).json()["seq"] for _ in range(5)]
            got = await recv_items(ws, len(sent), timeout=20)
            assert [x["seq"] for x in got] == sent
            await ws.close()
    finally:
        redis.stop()


async def test_sigkill_loses_no_acknowledged_message(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession
):
    """Every post answered 201 before the server was SIGKILLed is in the stream afterwards."""
    g = await f.group_with_roles(client, session)
    acknowledged: list[int] = []
    with running(database_url) as victim:
        async with httpx.AsyncClient(base_url=victim.base, timeout=10) as live:

            async def hammer() -> None:
                while True:
                    try:
                        r = await post(live, g.member, g.group_id)
                    except httpx.HTTPError:
                        return
                    if r.status_code == 201:
                        acknowledged.append(r.json()["seq"])

            workers = [asyncio.create_task(hammer()) for _ in range(8)]
            async with asyncio.timeout(60):  # fail, not hang, if the posts stop succeeding
                while len(acknowledged) < 100:
                    assert not all(w.done() for w in workers), "every poster stopped early"
                    await asyncio.sleep(0.02)
            victim.kill()
            await asyncio.gather(*workers)
    items, _ = await sync_all(client, g.observer)
    stored = {i["seq"] for i in items if i["kind"] == "alert"}
    assert set(acknowledged) <= stored
    seqs = sorted(i["seq"] for i in items)
    assert seqs == sorted(set(seqs))


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="CORDON_TEST_REDIS_URL not set")
async def test_login_limits_hold_across_processes(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession, settings
):
    """Failures counted by one process throttle the account on the other (the failures live
    in the shared database), and the 429 says when to come back."""
    u, _ = await f.user(session)
    with running(database_url, REDIS_URL) as a, running(database_url, REDIS_URL) as b:
        async with httpx.AsyncClient(base_url=a.base, timeout=30) as on_a:
            for _ in range(settings.login_max_failures):
                r = await on_a.post(
                    "/api/v1/auth/login",
                    json={"username": u.username, "password": "wrong", "device": f.device_keys()},
                )
                assert r.status_code == 401, r.text
        async with httpx.AsyncClient(base_url=b.base, timeout=30) as on_b:
            r = await on_b.post(
                "/api/v1/auth/login",
                json={"username": u.username, "password": f.PASSWORD, "device": f.device_keys()},
            )
    f.assert_problem(r, 429, "auth.throttled")
    assert 1 <= int(r.headers["retry-after"]) <= settings.login_window_seconds
