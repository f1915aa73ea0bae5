"""User creation by admins and NCPs, and enrolment with one-time codes."""

from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import utcnow
from app.organisations.models import Organisation
from app.users.models import EnrolmentCode, User
from tests import factories as f
from tests.factories import assert_problem

NEW_PASSWORD = "a long enough passphrase"


async def _create(client: httpx.AsyncClient, by: f.Actor, org_id: object, **extra: object):
    return await client.post(
        "/api/v1/users",
        headers=by.headers,
        json={
            "organisation_id": str(org_id),
            "username": extra.pop("username", "new.officer"),
            "display_name": "New Officer",
            **extra,
        },
    )


async def test_admin_creates_user_who_enrols_and_logs_in(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The whole enrolment path: code issued, inspected, redeemed, then a working login."""
    admin = await f.actor(client, session, admin=True, totp=True)
    org = await f.organisation(session)
    r = await _create(client, admin, org.id)
    assert r.status_code == 201, r.text
    code = r.json()["enrolment"]["code"]
    info = await client.post("/api/v1/auth/enrolment/inspect", json={"code": code})
    assert info.json()["username"] == "new.officer" and info.json()["totp_required"] is False
    r = await client.post(
        "/api/v1/auth/enrolment/complete", json={"code": code, "password": NEW_PASSWORD}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/api/v1/auth/login",
        json={"username": "new.officer", "password": NEW_PASSWORD, "device": f.device_keys()},
    )
    assert r.status_code == 200


async def test_enrolment_code_is_single_use(client: httpx.AsyncClient, session: AsyncSession):
    """A redeemed code cannot be redeemed again, nor inspected."""
    admin = await f.actor(client, session, admin=True, totp=True)
    code = (await _create(client, admin, admin.user.organisation_id)).json()["enrolment"]["code"]
    body = {"code": code, "password": NEW_PASSWORD}
    assert (await client.post("/api/v1/auth/enrolment/complete", json=body)).status_code == 200
    assert_problem(
        await client.post("/api/v1/auth/enrolment/complete", json=body),
        400,
        "enrolment.invalid_code",
    )
    assert_problem(
        await client.post("/api/v1/auth/enrolment/inspect", json={"code": code}),
        400,
        "enrolment.invalid_code",
    )


async def test_expired_and_superseded_codes(client: httpx.AsyncClient, session: AsyncSession):
    """An expired code fails; issuing a new code retires the old one."""
    admin = await f.actor(client, session, admin=True, totp=True)
    created = (await _create(client, admin, admin.user.organisation_id)).json()
    first = created["enrolment"]["code"]
    r = await client.post(
        f"/api/v1/users/{created['user']['id']}/enrolment-codes", headers=admin.headers
    )
    second = r.json()["code"]
    assert_problem(
        await client.post(
            "/api/v1/auth/enrolment/complete", json={"code": first, "password": NEW_PASSWORD}
        ),
        400,
        "enrolment.invalid_code",
    )
    await session.execute(update(EnrolmentCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert_problem(
        await client.post(
            "/api/v1/auth/enrolment/complete", json={"code": second, "password": NEW_PASSWORD}
        ),
        400,
        "enrolment.invalid_code",
    )


async def test_admin_enrolment_requires_totp(client: httpx.AsyncClient, session: AsyncSession):
    """An administrator cannot finish enrolment without proving a TOTP authenticator."""
    admin = await f.actor(client, session, admin=True, totp=True)
    code = (
        await _create(
            client,
            admin,
            admin.user.organisation_id,
            username="second.admin",
            platform_role="admin",
        )
    ).json()["enrolment"]["code"]
    info = (await client.post("/api/v1/auth/enrolment/inspect", json={"code": code})).json()
    assert info["totp_required"] is True and info["totp_secret"]
    r = await client.post(
        "/api/v1/auth/enrolment/complete", json={"code": code, "password": NEW_PASSWORD}
    )
    assert_problem(r, 422, "enrolment.totp_required")
    r = await client.post(
        "/api/v1/auth/enrolment/complete",
        json={"code": code, "password": NEW_PASSWORD, "totp_code": f.totp_now(info["totp_secret"])},
    )
    assert r.status_code == 200 and r.json()["totp_enabled"] is True


async def test_ncp_manages_own_organisation_only(client: httpx.AsyncClient, session: AsyncSession):
    """An NCP creates users in their organisation, not in another, and never admins."""
    ncp = await f.actor(client, session, ncp=True)
    other_org = await f.organisation(session)
    assert (await _create(client, ncp, ncp.user.organisation_id)).status_code == 201
    assert_problem(
        await _create(client, ncp, other_org.id, username="x.officer"),
        403,
        "user.management_denied",
    )
    assert_problem(
        await _create(
            client, ncp, ncp.user.organisation_id, username="y.officer", platform_role="admin"
        ),
        403,
        "user.management_denied",
    )


async def test_plain_user_cannot_create_users(client: httpx.AsyncClient, session: AsyncSession):
    """Officers who are neither admin nor NCP cannot create accounts, and nothing is written."""
    me = await f.actor(client, session)
    assert_problem(
        await _create(client, me, me.user.organisation_id), 403, "user.management_denied"
    )
    assert await session.scalar(select(User).where(User.username == "new.officer")) is None


async def test_user_input_errors(client: httpx.AsyncClient, session: AsyncSession):
    """Duplicate usernames, unknown organisations, bad usernames and short passwords are 4xx."""
    admin = await f.actor(client, session, admin=True, totp=True)
    org = admin.user.organisation_id
    assert (await _create(client, admin, org)).status_code == 201
    assert_problem(await _create(client, admin, org), 409, "user.username_taken")
    assert_problem(
        await _create(client, admin, "00000000-0000-0000-0000-000000000001", username="z.officer"),
        404,
        "organisation.not_found",
    )
    assert_problem(
        await _create(client, admin, org, username="Has Spaces"), 422, "core.invalid_input"
    )
    r = await client.post(
        "/api/v1/auth/enrolment/complete", json={"code": "enrol_whatever", "password": "short"}
    )
    assert_problem(r, 422, "core.invalid_input")


async def test_user_listing_is_scoped_and_paginated(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Non-admins list only their organisation; pages chain through signed cursors."""
    me = await f.actor(client, session, username="a.me")
    mine = await session.get(Organisation, me.user.organisation_id)
    for name in ("b.colleague", "c.colleague"):
        await f.user(session, org=mine, username=name)
    await f.user(session, username="b.stranger")
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/users", headers=me.headers, params=params)).json()
        seen += [u["username"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a.me", "b.colleague", "c.colleague"]
    bad = await client.get("/api/v1/users", headers=me.headers, params={"cursor": "forged"})
    assert_problem(bad, 400, "core.invalid_cursor")
