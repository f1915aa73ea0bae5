"""Service accounts through the API: who may create and revoke them, what their scope lets
them call (403 `service_account.out_of_scope` otherwise), and that their credential is shown
once and kept only as a keyed digest."""

import logging
import uuid

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import current_principal
from app.core.db import Base
from app.core.routing import _calls
from app.service_accounts import scopes
from tests import factories as f
from tests.messages.helpers import post
from tests.service_accounts import helpers as sa


async def test_admin_and_ncp_of_the_organisation_create_others_cannot(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Creation rights (docs/operations.md): administrator anywhere, NCP in their own
    organisation; a plain member, an NCP of another organisation and a service account not."""
    g = await f.group_with_roles(client, session)
    org = await f.organisation(session)
    admin = await f.actor(client, session, admin=True, totp=True)
    ncp = await f.actor(client, session, org=org, ncp=True)
    member = await f.actor(client, session, org=org)
    foreign_ncp = await f.actor(client, session, ncp=True)

    elsewhere = await f.organisation(session)
    await sa.create(client, admin, group_ids=[g.group_id], organisation_id=elsewhere.id)
    account, credential = await sa.create(client, ncp, group_ids=[g.group_id])
    assert account["organisation_id"] == str(org.id)
    assert account["created_by_id"] == ncp.id

    body = {
        "organisation_id": str(org.id),
        "username": "svc-refused",
        "display_name": "Refused",
        "operations": ["cases.post"],
        "group_ids": [g.group_id],
    }
    for refused in (member, foreign_ncp):
        r = await client.post("/api/v1/service-accounts", headers=refused.headers, json=body)
        f.assert_problem(r, 403, "service_account.management_denied")
    machine = await sa.login(client, account, credential)
    r = await client.post("/api/v1/service-accounts", headers=machine.headers, json=body)
    f.assert_problem(r, 403, "service_account.out_of_scope")

    listed = await client.get("/api/v1/service-accounts", headers=ncp.headers)
    assert [a["username"] for a in listed.json()] == [account["username"]]
    assert len((await client.get("/api/v1/service-accounts", headers=admin.headers)).json()) == 2
    f.assert_problem(
        await client.get("/api/v1/service-accounts", headers=member.headers),
        403,
        "service_account.management_denied",
    )
    f.assert_problem(
        await client.post(
            f"/api/v1/service-accounts/{account['user_id']}/revoke", headers=foreign_ncp.headers
        ),
        404,
        "service_account.not_found",
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"operations": []},
        {"operations": ["cases.delete"]},
        {"operations": ["cases.post", "cases.post"]},
        {"group_ids": []},
        {"group_ids": ["not-a-uuid"]},
        {"username": "Has Spaces"},
        {"password": "not a field"},
    ],
)
async def test_bad_input_is_a_422_and_creates_nothing(
    client: httpx.AsyncClient, session: AsyncSession, bad: dict[str, object]
):
    """Every wrong field is a problem document naming it, and no account appears."""
    admin = await f.actor(client, session, admin=True, totp=True)
    body = {
        "organisation_id": str(admin.user.organisation_id),
        "username": "svc-import",
        "display_name": "Import",
        "operations": ["cases.post"],
        "group_ids": [str(uuid.uuid4())],
        **bad,
    }
    r = await client.post("/api/v1/service-accounts", headers=admin.headers, json=body)
    f.assert_problem(r, 422, "core.invalid_input")
    assert (await client.get("/api/v1/service-accounts", headers=admin.headers)).json() == []


async def test_credential_is_shown_once_and_never_stored_or_logged(
    client: httpx.AsyncClient, session: AsyncSession, caplog: pytest.LogCaptureFixture
):
    """Only the keyed digest is in the database; neither the credential nor a token it buys
    appears in any table or log line; the account cannot log in with a password."""
    caplog.set_level(logging.DEBUG)
    g = await f.group_with_roles(client, session)
    admin = await f.actor(client, session, admin=True, totp=True)
    account, credential = await sa.create(client, admin, group_ids=[g.group_id])
    assert credential.startswith("cdn_sa_") and len(credential) > 40
    machine = await sa.login(client, account, credential)

    secret_part = credential.removeprefix("cdn_sa_")
    for table in Base.metadata.sorted_tables:
        rows = (await session.execute(text(f'SELECT * FROM "{table.name}"'))).all()
        dumped = repr(rows)
        assert secret_part not in dumped, table.name
        assert machine.token.removeprefix("cdn_") not in dumped, table.name
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert secret_part not in logged
    assert machine.token not in logged

    r = await client.get(f"/api/v1/service-accounts/{account['user_id']}", headers=admin.headers)
    assert "credential" not in r.json() and r.json()["last_used_at"] is not None
    for password in ("", credential):
        r = await client.post(
            "/api/v1/auth/login",
            json={
                "username": account["username"],
                "password": password or "x",
                "device": f.device_keys(),
            },
        )
        f.assert_problem(r, 401, "auth.invalid_credentials")
    r = await client.post(
        "/api/v1/service-accounts/login",
        json={"credential": credential + "x", "device": f.device_keys()},
    )
    f.assert_problem(r, 401, "service_account.invalid_credential")


async def test_tokens_are_short_lived_and_the_account_is_marked(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A credential buys an hour, not the 12 hours of a person's login; listings of users
    say which account is a service account, so the audit of who posted can tell."""
    g = await f.group_with_roles(client, session)
    org = await f.organisation(session)
    ncp = await f.actor(client, session, org=org, ncp=True)
    account, credential = await sa.create(client, ncp, group_ids=[g.group_id])
    r = await client.post(
        "/api/v1/service-accounts/login",
        json={"credential": credential, "device": f.device_keys()},
    )
    from datetime import UTC, datetime

    expires = datetime.fromisoformat(r.json()["expires_at"])
    assert 3500 < (expires - datetime.now(UTC)).total_seconds() <= 3600
    assert r.json()["user"]["is_service"] is True
    users = (await client.get("/api/v1/users", headers=ncp.headers)).json()["items"]
    marks = {u["username"]: u["is_service"] for u in users}
    assert marks == {account["username"]: True, ncp.user.username: False}
    await sa.admit(client, g, account)
    roster = await client.get(f"/api/v1/groups/{g.group_id}/members", headers=g.member.headers)
    marked = {m["username"]: m["is_service"] for m in roster.json()}
    assert marked[account["username"]] is True
    assert marked[g.member.user.username] is False and len(marked) == 5
    [line] = [m for m in roster.json() if m["username"] == account["username"]]
    assert (line["organisation_id"], line["organisation"], line["country_code"]) == (
        str(org.id),
        org.name,
        org.country_code,
    )
    assert line["display_name"] == account["display_name"] and line["role"] == "member"


async def test_scope_limits_routes_groups_and_kinds(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A `cases.post` account in group A posts alerts there and reads its group; every
    other operation, group and management route is 403 `service_account.out_of_scope`."""
    g = await f.group_with_roles(client, session)
    other = await f.group_with_roles(client, session)
    admin = await f.actor(client, session, admin=True, totp=True)
    account, credential = await sa.create(client, admin, group_ids=[g.group_id])
    await sa.admit(client, g, account)
    machine = await sa.login(client, account, credential)
    base = f"/api/v1/groups/{g.group_id}"

    assert (await client.get(base, headers=machine.headers)).status_code == 200
    assert (await client.get("/api/v1/sync", headers=machine.headers)).status_code == 200
    r = await post(client, machine, g.group_id, "case 1")
    assert r.status_code == 201, r.text
    assert r.json()["sender_user_id"] == account["user_id"]

    out_of_scope = [
        client.get(f"/api/v1/groups/{other.group_id}", headers=machine.headers),
        client.get(f"{base}/library/documents", headers=machine.headers),
        client.get(f"{base}/prenotifications", headers=machine.headers),
        client.post("/api/v1/groups", headers=machine.headers, json={"name": "Mine"}),
        client.post(f"{base}/members", headers=machine.headers, json={"user_id": g.outsider.id}),
        client.post(f"{base}/invitations", headers=machine.headers, json={}),
        client.get(f"{base}/join-requests", headers=machine.headers),
        client.post("/api/v1/auth/totp/setup", headers=machine.headers),
        client.post(f"/api/v1/users/{g.member.id}/disable", headers=machine.headers),
    ]
    for call in out_of_scope:
        f.assert_problem(await call, 403, "service_account.out_of_scope")
    r = await post(client, machine, g.group_id, "not mine to send", kind="library")
    f.assert_problem(r, 403, "service_account.out_of_scope")
    r = await client.post(
        f"{base}/messages/batch",
        headers=machine.headers,
        json={"messages": []},
    )
    f.assert_problem(r, 422, "core.invalid_input")


async def test_a_coordinator_admits_it_only_as_a_member_of_its_groups(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Membership never outgrows the scope: another group, or a higher role, is 409."""
    g = await f.group_with_roles(client, session)
    other = await f.group_with_roles(client, session)
    admin = await f.actor(client, session, admin=True, totp=True)
    account, _ = await sa.create(client, admin, group_ids=[g.group_id])
    r = await client.post(
        f"/api/v1/groups/{other.group_id}/members",
        headers=other.coordinator.headers,
        json={"user_id": account["user_id"], "role": "member"},
    )
    f.assert_problem(r, 409, "service_account.not_admissible")
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/members",
        headers=g.coordinator.headers,
        json={"user_id": account["user_id"], "role": "co_coordinator"},
    )
    f.assert_problem(r, 409, "service_account.not_admissible")
    await sa.admit(client, g, account)
    r = await client.patch(
        f"/api/v1/groups/{g.group_id}/members/{account['user_id']}",
        headers=g.coordinator.headers,
        json={"role": "co_coordinator"},
    )
    f.assert_problem(r, 409, "service_account.not_admissible")


async def test_revocation_ends_sessions_and_the_credential(
    client: httpx.AsyncClient, session: AsyncSession
):
    """After revocation the token is 401 and the credential buys nothing; idempotent."""
    g = await f.group_with_roles(client, session)
    ncp = await f.actor(client, session, org=await f.organisation(session), ncp=True)
    account, credential = await sa.create(client, ncp, group_ids=[g.group_id])
    machine = await sa.login(client, account, credential)
    url = f"/api/v1/service-accounts/{account['user_id']}/revoke"
    for _ in range(2):
        r = await client.post(url, headers=ncp.headers)
        assert r.status_code == 200 and r.json()["revoked_at"] is not None
    f.assert_problem(
        await client.get("/api/v1/users/me", headers=machine.headers), 401, "auth.invalid_token"
    )
    r = await client.post(
        "/api/v1/service-accounts/login",
        json={"credential": credential, "device_id": machine.device_id},
    )
    f.assert_problem(r, 401, "service_account.invalid_credential")
    enabled = await client.post(f"/api/v1/users/{account['user_id']}/enable", headers=ncp.headers)
    f.assert_problem(enabled, 409, "service_account.revoked")  # said plainly, not "enabled"
    assert "stays revoked" in enabled.json()["title"]


def test_every_authenticated_route_is_decided_for_service_accounts(app: object):
    """Each route behind `current_principal` is either granted (baseline or an operation)
    or denied to service accounts, never forgotten: deny-by-default is a decision too."""
    authenticated = set()
    for context in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, APIRoute) and current_principal in set(_calls(route.dependant)):
            authenticated |= {(m, context.path_format) for m in route.methods - {"HEAD"}}
    assert not set(scopes.ROUTES) & scopes.DENIED
    assert authenticated == set(scopes.ROUTES) | scopes.DENIED
