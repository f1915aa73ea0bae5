"""Password changes need the current password and end every other session; throttled
answers say when to retry; forwarded addresses count only from trusted proxies."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.conftest import make_settings, serving
from tests.factories import assert_problem

NEW_PASSWORD = "a brand new passphrase"


async def _change(
    client: httpx.AsyncClient, who: f.Actor, current: str, **extra: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/password",
        headers=who.headers,
        json={"current_password": current, "new_password": NEW_PASSWORD, **extra},
    )


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device": f.device_keys()},
    )


async def test_password_change_needs_the_current_password(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A bearer token alone cannot change the password."""
    me = await f.actor(client, session)
    assert_problem(await _change(client, me, "not my password"), 401, "auth.invalid_credentials")
    assert (await _login(client, me.user.username, f.PASSWORD)).status_code == 200
    assert_problem(
        await _login(client, me.user.username, NEW_PASSWORD), 401, "auth.invalid_credentials"
    )


async def test_password_change_ends_every_other_session(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The other devices' tokens stop working; the session that changed it goes on."""
    me = await f.actor(client, session)
    other = await f.login(client, me.user)
    r = await _change(client, me, f.PASSWORD)
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": 1}
    assert_problem(
        await client.get("/api/v1/users/me", headers=other.headers), 401, "auth.invalid_token"
    )
    assert (await client.get("/api/v1/users/me", headers=me.headers)).status_code == 200
    assert (await _login(client, me.user.username, NEW_PASSWORD)).status_code == 200
    assert_problem(
        await _login(client, me.user.username, f.PASSWORD), 401, "auth.invalid_credentials"
    )


async def test_password_change_with_totp_needs_a_code(
    client: httpx.AsyncClient, session: AsyncSession
):
    """With TOTP on, the current password is not enough."""
    me = await f.actor(client, session, totp=True)
    assert_problem(await _change(client, me, f.PASSWORD), 401, "auth.totp_required")
    assert me.totp_seed is not None
    r = await _change(client, me, f.PASSWORD, totp_code=f.totp_now(me.totp_seed, 1))
    assert r.status_code == 200, r.text


async def test_wrong_current_passwords_are_throttled_with_retry_after(
    client: httpx.AsyncClient, session: AsyncSession, settings
):
    """Guessing through the password route counts as failed logins, and the 429 says how
    long to wait (never more than the window)."""
    me = await f.actor(client, session)
    for _ in range(settings.login_max_failures):
        assert (await _change(client, me, "guess")).status_code == 401
    r = await _change(client, me, f.PASSWORD)
    assert_problem(r, 429, "auth.throttled")
    assert 1 <= int(r.headers["retry-after"]) <= settings.login_window_seconds
    r = await _login(client, me.user.username, f.PASSWORD)
    assert_problem(r, 429, "auth.throttled")
    assert r.headers["retry-after"].isdigit()


async def _spray(client: httpx.AsyncClient, count: int, forwarded: str | None = None) -> None:
    """Failed logins on as many usernames; a client-chosen address in front of `forwarded`."""
    for i in range(count):
        chosen = f"198.51.100.{i}"
        headers = {"X-Forwarded-For": f"{chosen}, {forwarded}" if forwarded else chosen}
        r = await client.post(
            "/api/v1/auth/login",
            headers=headers,
            json={"username": f"spray{i}", "password": "bad", "device": f.device_keys()},
        )
        assert r.status_code == 401, r.text


async def test_forwarded_for_is_ignored_by_default(
    client: httpx.AsyncClient, session: AsyncSession, settings
):
    """With no trusted proxy, a new X-Forwarded-For per attempt does not escape the
    per-address limit."""
    await _spray(client, settings.address_max_failures)
    u, _ = await f.user(session)
    r = await client.post(
        "/api/v1/auth/login",
        headers={"X-Forwarded-For": "203.0.113.99"},
        json={"username": u.username, "password": f.PASSWORD, "device": f.device_keys()},
    )
    assert_problem(r, 429, "auth.throttled")


@pytest.mark.usefixtures("app")  # cleans the tables afterwards
async def test_trusted_proxy_names_the_client(database_url: str, session: AsyncSession):
    """Behind a trusted proxy the address it appended counts; what the client wrote to the
    left of it does not, so spraying through the proxy is still throttled."""
    settings = make_settings(database_url, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    async with serving(settings) as proxied:
        transport = httpx.ASGITransport(app=proxied)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await _spray(c, settings.address_max_failures, forwarded="203.0.113.7, 10.1.2.3")
            u, _ = await f.user(session)
            body = {"username": u.username, "password": f.PASSWORD, "device": f.device_keys()}
            spoofed = await c.post(
                "/api/v1/auth/login",
                headers={"X-Forwarded-For": "192.0.2.200, 203.0.113.7"},
                json=body,
            )
            assert_problem(spoofed, 429, "auth.throttled")
            elsewhere = await c.post(
                "/api/v1/auth/login", headers={"X-Forwarded-For": "203.0.113.8"}, json=body
            )
            assert elsewhere.status_code == 200, elsewhere.text
