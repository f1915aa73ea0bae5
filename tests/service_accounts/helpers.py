"""Service accounts built through the API, as an administrator or NCP would."""

import uuid
from typing import Any

import httpx

from app.users.models import User
from tests import factories as f


async def create(
    client: httpx.AsyncClient,
    creator: f.Actor,
    *,
    group_ids: list[str],
    operations: tuple[str, ...] = ("cases.post",),
    organisation_id: uuid.UUID | None = None,
) -> tuple[dict[str, Any], str]:
    """A service account of the creator's organisation; its record and its credential."""
    r = await client.post(
        "/api/v1/service-accounts",
        headers=creator.headers,
        json={
            "organisation_id": str(organisation_id or creator.user.organisation_id),
            "username": f"svc-{uuid.uuid4().hex[:8]}",
            "display_name": "Nightly import",
            "operations": list(operations),
            "group_ids": group_ids,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return body["service_account"], body["credential"]


async def login(client: httpx.AsyncClient, account: dict[str, Any], credential: str) -> f.Actor:
    """Exchange the credential for a token on a new device with keys made here."""
    device, signing_key = f.new_device("import-host")
    r = await client.post(
        "/api/v1/service-accounts/login", json={"credential": credential, "device": device}
    )
    assert r.status_code == 200, r.text
    data = r.json()
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {data['access_token']}"}
    )
    assert me.status_code == 200, me.text
    user = User(
        id=uuid.UUID(account["user_id"]),
        organisation_id=uuid.UUID(account["organisation_id"]),
        username=account["username"],
        display_name=account["display_name"],
        is_service=True,
    )
    return f.Actor(
        user=user,
        token=data["access_token"],
        device_id=data["device_id"],
        headers={"Authorization": f"Bearer {data['access_token']}"},
        signing_key=signing_key,
    )


async def admit(client: httpx.AsyncClient, g: f.GroupSetup, account: dict[str, Any]) -> None:
    """The coordinator adds the account as a member (the server half of admission)."""
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/members",
        headers=g.coordinator.headers,
        json={"user_id": account["user_id"], "role": "member"},
    )
    assert r.status_code == 201, r.text
