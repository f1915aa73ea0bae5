"""Who may reset, disable and re-enable an account: a bearer token alone takes over nothing."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import verify_password
from app.users import service as users_service
from app.users.exceptions import LastAdministrator
from tests import factories as f
from tests.factories import assert_problem

NEW_PASSWORD = "a brand new passphrase"


async def _code(client: httpx.AsyncClient, by: f.Actor, user_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/users/{user_id}/enrolment-codes", headers=by.headers)


async def _redeem(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/enrolment/complete", json={"code": code, "password": NEW_PASSWORD}
    )


@pytest.mark.parametrize("role", [{}, {"ncp": True}, {"admin": True, "totp": True}])
async def test_no_one_issues_an_enrolment_code_for_themselves(
    client: httpx.AsyncClient, session: AsyncSession, role: dict[str, bool]
):
    """A stolen token cannot mint a code and set a new password on its own account."""
    me = await f.actor(client, session, **role)
    assert_problem(await _code(client, me, me.id), 403, "user.self_management")
    await session.refresh(me.user)
    assert verify_password(me.user.password_hash, f.PASSWORD), "the password must be unchanged"


async def test_who_issues_codes(client: httpx.AsyncClient, session: AsyncSession):
    """Administrators for anyone else; an NCP for the non-administrators of their organisation
    only; a plain user for no one."""
    org = await f.organisation(session)
    admin = await f.actor(client, session, admin=True, totp=True, org=org)
    ncp = await f.actor(client, session, ncp=True, org=org)
    officer = await f.actor(client, session, org=org)
    colleague = await f.actor(client, session, org=org)
    stranger = await f.actor(client, session)
    assert (await _code(client, admin, officer.id)).status_code == 201
    assert (await _code(client, admin, ncp.id)).status_code == 201
    assert (await _code(client, ncp, officer.id)).status_code == 201
    assert_problem(await _code(client, ncp, admin.id), 403, "user.management_denied")
    assert_problem(await _code(client, ncp, stranger.id), 403, "user.management_denied")
    assert_problem(await _code(client, officer, colleague.id), 403, "user.management_denied")


async def test_redeeming_an_issued_code_ends_every_session(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A reset by an administrator logs the account out everywhere."""
    admin = await f.actor(client, session, admin=True, totp=True)
    officer = await f.actor(client, session)
    code = (await _code(client, admin, officer.id)).json()["code"]
    assert (await _redeem(client, code)).status_code == 200
    assert_problem(
        await client.get("/api/v1/users/me", headers=officer.headers), 401, "auth.invalid_token"
    )


@pytest.mark.parametrize("role", [{"ncp": True}, {"admin": True, "totp": True}])
async def test_no_one_disables_themselves(
    client: httpx.AsyncClient, session: AsyncSession, role: dict[str, bool]
):
    """An NCP or an administrator cannot lock themselves out."""
    me = await f.actor(client, session, **role)
    r = await client.post(f"/api/v1/users/{me.id}/disable", headers=me.headers)
    assert_problem(r, 403, "user.self_management")
    assert (await client.get("/api/v1/users/me", headers=me.headers)).status_code == 200


async def test_ncp_cannot_disable_an_administrator(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Not even the only administrator, of the NCP's own organisation."""
    org = await f.organisation(session)
    admin = await f.actor(client, session, admin=True, totp=True, org=org)
    ncp = await f.actor(client, session, ncp=True, org=org)
    r = await client.post(f"/api/v1/users/{admin.id}/disable", headers=ncp.headers)
    assert_problem(r, 403, "user.management_denied")
    assert (await client.get("/api/v1/users/me", headers=admin.headers)).status_code == 200


async def test_the_last_administrator_cannot_be_disabled(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Even with the operator's authority (the CLI's `actor=None`), one administrator stays."""
    admin = await f.actor(client, session, admin=True, totp=True)
    with pytest.raises(LastAdministrator):
        await users_service.disable(session, actor=None, user=admin.user)
    other = await f.actor(client, session, admin=True, totp=True)
    r = await client.post(f"/api/v1/users/{admin.id}/disable", headers=other.headers)
    assert r.status_code == 200, r.text
    await session.refresh(other.user)
    with pytest.raises(LastAdministrator):
        await users_service.disable(session, actor=None, user=other.user)


async def test_disable_then_enable(client: httpx.AsyncClient, session: AsyncSession):
    """A disabled account is re-enabled by whoever may disable it; it logs in afresh and its
    old sessions stay ended."""
    org = await f.organisation(session)
    ncp = await f.actor(client, session, ncp=True, org=org)
    officer = await f.actor(client, session, org=org)
    r = await client.post(f"/api/v1/users/{officer.id}/disable", headers=ncp.headers)
    assert r.status_code == 200 and r.json()["disabled_at"] is not None
    outsider = await f.actor(client, session)
    r = await client.post(f"/api/v1/users/{officer.id}/enable", headers=outsider.headers)
    assert_problem(r, 403, "user.management_denied")
    r = await client.post(f"/api/v1/users/{officer.id}/enable", headers=ncp.headers)
    assert r.status_code == 200 and r.json()["disabled_at"] is None
    assert_problem(
        await client.get("/api/v1/users/me", headers=officer.headers), 401, "auth.invalid_token"
    )
    again = await f.login(client, officer.user)
    assert (await client.get("/api/v1/users/me", headers=again.headers)).status_code == 200
