"""Login, tokens, TOTP and throttling through the HTTP API."""

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import AccessToken
from app.core.types import utcnow
from tests import factories as f
from tests.factories import assert_problem


async def test_login_binds_token_to_new_device(client: httpx.AsyncClient, session: AsyncSession):
    """A login registers the device's public keys and the token works for that user."""
    me = await f.actor(client, session)
    r = await client.get("/api/v1/users/me", headers=me.headers)
    assert r.status_code == 200 and r.json()["username"] == me.user.username
    devices = (await client.get("/api/v1/devices", headers=me.headers)).json()
    assert [d["id"] for d in devices] == [me.device_id]


async def test_login_on_existing_device(client: httpx.AsyncClient, session: AsyncSession):
    """Logging in again on a known device reuses it instead of registering another."""
    me = await f.actor(client, session)
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": me.user.username, "password": f.PASSWORD, "device_id": me.device_id},
    )
    assert r.status_code == 200 and r.json()["device_id"] == me.device_id


async def test_login_refuses_someone_elses_device(client: httpx.AsyncClient, session: AsyncSession):
    """A device id of another user is not found, so tokens cannot be bound to it."""
    other = await f.actor(client, session)
    me, _ = await f.user(session)
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": me.username, "password": f.PASSWORD, "device_id": other.device_id},
    )
    assert_problem(r, 404, "device.not_found")


async def test_wrong_password_and_unknown_user_look_alike(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Wrong password and unknown user give the same answer, so usernames cannot be probed."""
    u, _ = await f.user(session)
    wrong = await client.post(
        "/api/v1/auth/login",
        json={"username": u.username, "password": "nope", "device": f.device_keys()},
    )
    unknown = await client.post(
        "/api/v1/auth/login",
        json={"username": "ghost", "password": "nope", "device": f.device_keys()},
    )
    assert (
        assert_problem(wrong, 401, "auth.invalid_credentials")["detail"]
        == assert_problem(unknown, 401, "auth.invalid_credentials")["detail"]
    )


async def test_failed_login_writes_no_device(client: httpx.AsyncClient, session: AsyncSession):
    """A refused login leaves nothing half-written: no device row appears."""
    u, _ = await f.user(session)
    await client.post(
        "/api/v1/auth/login",
        json={"username": u.username, "password": "nope", "device": f.device_keys()},
    )
    me = await f.login(client, u)
    assert len((await client.get("/api/v1/devices", headers=me.headers)).json()) == 1


async def test_account_throttled_after_repeated_failures(
    client: httpx.AsyncClient, session: AsyncSession, settings
):
    """After the allowed failures, even the right password is refused until the window ends."""
    u, _ = await f.user(session)
    for _ in range(settings.login_max_failures):
        r = await client.post(
            "/api/v1/auth/login",
            json={"username": u.username, "password": "bad", "device": f.device_keys()},
        )
        assert r.status_code == 401
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": u.username, "password": f.PASSWORD, "device": f.device_keys()},
    )
    assert_problem(r, 429, "auth.throttled")


async def test_address_throttled_across_accounts(
    client: httpx.AsyncClient, session: AsyncSession, settings
):
    """One address spraying many usernames is throttled even though no account is."""
    for i in range(settings.address_max_failures):
        await client.post(
            "/api/v1/auth/login",
            json={"username": f"spray{i}", "password": "bad", "device": f.device_keys()},
        )
    u, _ = await f.user(session)
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": u.username, "password": f.PASSWORD, "device": f.device_keys()},
    )
    assert_problem(r, 429, "auth.throttled")


async def test_totp_required_wrong_and_replayed(client: httpx.AsyncClient, session: AsyncSession):
    """A TOTP user needs a code; a wrong code and a reused code are both refused."""
    u, seed = await f.user(session, totp=True)
    assert seed
    base = {"username": u.username, "password": f.PASSWORD}
    r = await client.post("/api/v1/auth/login", json={**base, "device": f.device_keys()})
    assert_problem(r, 401, "auth.totp_required")
    wrong = f"{(int(f.totp_now(seed)) + 1) % 1_000_000:06d}"
    r = await client.post(
        "/api/v1/auth/login", json={**base, "totp_code": wrong, "device": f.device_keys()}
    )
    assert_problem(r, 401, "auth.invalid_totp")
    code = f.totp_now(seed)
    r = await client.post(
        "/api/v1/auth/login", json={**base, "totp_code": code, "device": f.device_keys()}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/auth/login", json={**base, "totp_code": code, "device": f.device_keys()}
    )
    assert_problem(r, 401, "auth.invalid_totp")


async def test_totp_setup_and_confirm(client: httpx.AsyncClient, session: AsyncSession):
    """A user turns TOTP on by confirming a code; from then on login needs one."""
    me = await f.actor(client, session)
    r = await client.post("/api/v1/auth/totp/confirm", headers=me.headers, json={"code": "123456"})
    assert_problem(r, 422, "auth.totp_not_pending")
    setup = (await client.post("/api/v1/auth/totp/setup", headers=me.headers)).json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    r = await client.post(
        "/api/v1/auth/totp/confirm", headers=me.headers, json={"code": f.totp_now(setup["secret"])}
    )
    assert r.status_code == 200 and r.json()["totp_enabled"] is True
    r = await client.post("/api/v1/auth/totp/setup", headers=me.headers)
    assert_problem(r, 409, "auth.totp_already_enabled")
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": me.user.username, "password": f.PASSWORD, "device_id": me.device_id},
    )
    assert_problem(r, 401, "auth.totp_required")


async def test_logout_revokes_only_that_token(client: httpx.AsyncClient, session: AsyncSession):
    """After logout the token is refused; the user's other sessions keep working."""
    me = await f.actor(client, session)
    other = await f.login(client, me.user)
    assert (await client.post("/api/v1/auth/logout", headers=me.headers)).status_code == 204
    assert_problem(
        await client.get("/api/v1/users/me", headers=me.headers), 401, "auth.invalid_token"
    )
    assert (await client.get("/api/v1/users/me", headers=other.headers)).status_code == 200


async def test_revoke_all_sessions(client: httpx.AsyncClient, session: AsyncSession):
    """Revoke-all ends every session of the user at once."""
    me = await f.actor(client, session)
    other = await f.login(client, me.user)
    r = await client.post("/api/v1/auth/sessions/revoke-all", headers=me.headers)
    assert r.json() == {"revoked": 2}
    for a in (me, other):
        assert_problem(
            await client.get("/api/v1/users/me", headers=a.headers), 401, "auth.invalid_token"
        )


async def test_expired_and_garbage_tokens(client: httpx.AsyncClient, session: AsyncSession):
    """Expired, unknown and missing tokens all get the same 401."""
    me = await f.actor(client, session)
    await session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    for headers in (me.headers, {"Authorization": "Bearer cdn_nope"}, {}):
        assert_problem(
            await client.get("/api/v1/users/me", headers=headers), 401, "auth.invalid_token"
        )


async def test_tokens_are_stored_hashed(client: httpx.AsyncClient, session: AsyncSession):
    """The database never holds the bearer secret itself."""
    me = await f.actor(client, session)
    digests = (await session.execute(AccessToken.__table__.select())).all()
    assert digests and all(me.token not in str(row) for row in digests)


async def test_revoked_device_loses_its_tokens(client: httpx.AsyncClient, session: AsyncSession):
    """Revoking a device ends its sessions; logging in on it again is refused."""
    me = await f.actor(client, session)
    spare = await f.login(client, me.user)
    r = await client.post(f"/api/v1/devices/{me.device_id}/revoke", headers=spare.headers)
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert_problem(
        await client.get("/api/v1/users/me", headers=me.headers), 401, "auth.invalid_token"
    )
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": me.user.username, "password": f.PASSWORD, "device_id": me.device_id},
    )
    assert_problem(r, 409, "device.revoked")


async def test_disabled_user_cannot_log_in(client: httpx.AsyncClient, session: AsyncSession):
    """Disabling an account by an admin ends its sessions and refuses new logins."""
    admin = await f.actor(client, session, admin=True, totp=True)
    me = await f.actor(client, session)
    r = await client.post(f"/api/v1/users/{me.id}/disable", headers=admin.headers)
    assert r.status_code == 200
    assert_problem(
        await client.get("/api/v1/users/me", headers=me.headers), 401, "auth.invalid_token"
    )
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": me.user.username, "password": f.PASSWORD, "device": f.device_keys()},
    )
    assert_problem(r, 401, "auth.invalid_credentials")


async def test_login_body_validation(client: httpx.AsyncClient):
    """Unknown fields, both device forms, bad keys: clear 4xx problems, never a 500."""
    keys = f.device_keys()
    cases = [
        {"username": "a", "password": "b", "device": keys, "extra": 1},
        {"username": "a", "password": "b"},
        {
            "username": "a",
            "password": "b",
            "device": keys,
            "device_id": "00000000-0000-0000-0000-000000000000",
        },
        {"username": "a", "password": "b", "device": {**keys, "signing_key": "c2hvcnQ"}},
        {"username": "a", "password": "b", "device": {**keys, "exchange_key": "!!notb64!!"}},
        {"username": "a", "password": "b", "totp_code": "12ab56", "device": keys},
    ]
    for body in cases:
        assert_problem(
            await client.post("/api/v1/auth/login", json=body), 422, "core.invalid_input"
        )


async def test_duplicate_device_key_refused(client: httpx.AsyncClient, session: AsyncSession):
    """A signing key belongs to one device only."""
    u, _ = await f.user(session)
    keys = f.device_keys()
    body = {"username": u.username, "password": f.PASSWORD, "device": keys}
    assert (await client.post("/api/v1/auth/login", json=body)).status_code == 200
    assert_problem(await client.post("/api/v1/auth/login", json=body), 409, "device.key_taken")
