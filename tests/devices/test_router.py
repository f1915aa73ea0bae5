"""A user's devices: listed with their public keys, revocable, invisible to others."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.factories import assert_problem


async def test_list_and_get_own_devices(client: httpx.AsyncClient, session: AsyncSession):
    """Each login on a new device adds one; the server returns only public keys."""
    me = await f.actor(client, session)
    second = await f.login(client, me.user)
    devices = (await client.get("/api/v1/devices", headers=me.headers)).json()
    assert {d["id"] for d in devices} == {me.device_id, second.device_id}
    assert set(devices[0]) == {
        "id",
        "user_id",
        "name",
        "signing_key",
        "exchange_key",
        "created_at",
        "last_seen_at",
        "revoked_at",
    }
    one = await client.get(f"/api/v1/devices/{second.device_id}", headers=me.headers)
    assert one.json()["id"] == second.device_id


async def test_other_users_devices_are_not_found(client: httpx.AsyncClient, session: AsyncSession):
    """Another user's device id answers 404 for reading and revoking alike."""
    me = await f.actor(client, session)
    other = await f.actor(client, session)
    for r in (
        await client.get(f"/api/v1/devices/{other.device_id}", headers=me.headers),
        await client.post(f"/api/v1/devices/{other.device_id}/revoke", headers=me.headers),
    ):
        assert_problem(r, 404, "device.not_found")
    assert (await client.get("/api/v1/users/me", headers=other.headers)).status_code == 200


async def test_revoking_twice_is_a_conflict(client: httpx.AsyncClient, session: AsyncSession):
    """A revoked device stays revoked and listed; revoking again says so."""
    me = await f.actor(client, session)
    spare = await f.login(client, me.user)
    url = f"/api/v1/devices/{me.device_id}/revoke"
    assert (await client.post(url, headers=spare.headers)).status_code == 200
    assert_problem(await client.post(url, headers=spare.headers), 409, "device.revoked")
    listed = (await client.get("/api/v1/devices", headers=spare.headers)).json()
    assert [d["revoked_at"] is not None for d in listed if d["id"] == me.device_id] == [True]
