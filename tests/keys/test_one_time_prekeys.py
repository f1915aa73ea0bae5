"""One-time prekeys through the API: batches in, limits, and each key claimed exactly once.

Keys are made with the client's protocol library, so these tests also pin the server's check
of the signature to the client's bytes.
"""

import asyncio
import uuid

import httpx
from cordon_client.crypto.prekeys import OneTimePrekey, make_one_time_prekey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.models import OneTimePrekey as OneTimePrekeyRow
from app.keys.prekeys import CLAIM, MAX_STORED_PER_DEVICE
from tests import factories as f
from tests.factories import assert_problem

UPLOAD = "/api/v1/devices/me/one-time-prekeys"


def batch(who: f.Actor, first: int, count: int) -> list[OneTimePrekey]:
    """`count` keys of the actor's device signed by its device key, ids from `first`."""
    assert who.signing_key is not None
    return [
        make_one_time_prekey(who.signing_key, uuid.UUID(who.device_id), first + i)[1]
        for i in range(count)
    ]


async def upload(client: httpx.AsyncClient, who: f.Actor, keys: list[OneTimePrekey]):
    return await client.post(
        UPLOAD, headers=who.headers, json={"prekeys": [k.to_json() for k in keys]}
    )


async def claim(client: httpx.AsyncClient, g: f.GroupSetup, who: f.Actor, *device_ids: str):
    return await client.post(
        f"/api/v1/groups/{g.group_id}/one-time-prekeys/claim",
        headers=who.headers,
        json={"device_ids": list(device_ids)},
    )


async def stored(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(OneTimePrekeyRow)) or 0)


async def test_upload_reports_the_count_and_the_limits(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A batch is stored whole; the count route and the upload answer say how many are left."""
    me = await f.actor(client, session)
    r = await upload(client, me, batch(me, 1, 100))
    assert r.status_code == 201, r.text
    assert r.json() == {"count": 100, "max_stored": MAX_STORED_PER_DEVICE, "max_batch": 100}
    r = await client.get(UPLOAD, headers=me.headers)
    assert r.json()["count"] == 100


async def test_a_badly_signed_key_refuses_the_whole_batch(
    client: httpx.AsyncClient, session: AsyncSession
):
    """One key signed by another key: 422 naming its index, and nothing of the batch stored."""
    me = await f.actor(client, session)
    keys = batch(me, 1, 5)
    _, forged = make_one_time_prekey(Ed25519PrivateKey.generate(), uuid.UUID(me.device_id), 4)
    keys[3] = forged
    body = assert_problem(await upload(client, me, keys), 422, "keys.malformed")
    assert body["detail"] == "prekeys[3].sig: signature does not verify"
    assert await stored(session) == 0


async def test_keys_of_another_device_are_refused(client: httpx.AsyncClient, session: AsyncSession):
    """A device uploads only its own keys, even ones validly signed by another device."""
    me, other = await f.actor(client, session), await f.actor(client, session)
    body = assert_problem(await upload(client, me, batch(other, 1, 2)), 422, "keys.malformed")
    assert "prekeys[0]" in str(body["detail"])
    assert await stored(session) == 0


async def test_batch_and_total_limits(client: httpx.AsyncClient, session: AsyncSession):
    """More than 100 per batch is a 422; more than 200 stored is a 409 that stores nothing."""
    me = await f.actor(client, session)
    assert_problem(await upload(client, me, batch(me, 1, 101)), 422, "core.invalid_input")
    assert (await upload(client, me, batch(me, 1, 100))).status_code == 201
    assert (await upload(client, me, batch(me, 101, 90))).status_code == 201
    body = assert_problem(
        await upload(client, me, batch(me, 191, 11)), 409, "keys.one_time_prekeys_full"
    )
    assert "at most 10" in str(body["detail"])
    assert await stored(session) == 190


async def test_a_reused_id_is_refused(client: httpx.AsyncClient, session: AsyncSession):
    """An id already uploaded is a 409, and the batch carrying it is not stored."""
    me = await f.actor(client, session)
    assert (await upload(client, me, batch(me, 1, 3))).status_code == 201
    assert_problem(await upload(client, me, batch(me, 3, 3)), 409, "keys.prekey_exists")
    assert await stored(session) == 3
    twice = batch(me, 7, 1) * 2
    assert_problem(await upload(client, me, twice), 422, "keys.malformed")


async def test_claims_take_each_key_once_lowest_first(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Each claim returns the next key and deletes it; an exhausted device answers null."""
    g = await f.group_with_roles(client, session)
    target = g.coordinator
    keys = batch(target, 1, 2)
    assert (await upload(client, target, keys)).status_code == 201
    got = []
    for _ in range(3):
        r = await claim(client, g, g.member, target.device_id)
        assert r.status_code == 200, r.text
        [item] = r.json()["items"]
        assert item["device_id"] == target.device_id
        got.append(item["one_time_prekey"])
    assert got == [keys[0].to_json(), keys[1].to_json(), None]
    assert (await client.get(UPLOAD, headers=target.headers)).json()["count"] == 0


async def test_claims_only_reach_devices_of_the_group(
    client: httpx.AsyncClient, session: AsyncSession
):
    """An outsider's device is not claimable through the group; an observer may not claim."""
    g = await f.group_with_roles(client, session)
    assert (await upload(client, g.outsider, batch(g.outsider, 1, 1))).status_code == 201
    r = await claim(client, g, g.member, g.outsider.device_id, str(uuid.uuid4()))
    assert [i["one_time_prekey"] for i in r.json()["items"]] == [None, None]
    assert await stored(session) == 1
    assert_problem(
        await claim(client, g, g.observer, g.coordinator.device_id), 403, "group.role_required"
    )
    assert_problem(
        await claim(client, g, g.outsider, g.coordinator.device_id), 404, "group.not_found"
    )


async def test_a_repeated_device_in_one_claim_gets_one_key(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Naming a device twice in one claim costs it one key, answered once."""
    g = await f.group_with_roles(client, session)
    assert (await upload(client, g.coordinator, batch(g.coordinator, 1, 2))).status_code == 201
    r = await claim(client, g, g.member, g.coordinator.device_id, g.coordinator.device_id)
    assert len(r.json()["items"]) == 1
    assert await stored(session) == 1


async def test_concurrent_claims_never_share_a_key(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Twenty claims at once for a device holding ten keys: ten distinct keys, ten nulls."""
    g = await f.group_with_roles(client, session)
    target = g.coordinator
    assert (await upload(client, target, batch(target, 1, 10))).status_code == 201
    claimers = [g.member, g.co_coordinator, g.coordinator]
    answers = await asyncio.gather(
        *(claim(client, g, claimers[i % 3], target.device_id) for i in range(20))
    )
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    served = [r.json()["items"][0]["one_time_prekey"] for r in answers]
    ids = [s["prekey_id"] for s in served if s is not None]
    assert sorted(ids) == list(range(1, 11))
    assert served.count(None) == 10
    assert await stored(session) == 0


async def test_a_claim_in_flight_does_not_block_or_empty_another(
    app: object, client: httpx.AsyncClient, session: AsyncSession
):
    """Two claim transactions overlapping on one device get two different keys: the second
    skips the row the first has locked (PostgreSQL) or waits for its commit (SQLite)."""
    g = await f.group_with_roles(client, session)
    device_id = uuid.UUID(g.coordinator.device_id)
    assert (await upload(client, g.coordinator, batch(g.coordinator, 1, 3))).status_code == 201
    maker = app.state.sessionmaker  # type: ignore[attr-defined]
    params = {"group_id": uuid.UUID(g.group_id), "device_ids": [device_id]}
    async with maker() as first, maker() as second:
        held = (await first.execute(CLAIM, params)).one()
        racing = asyncio.create_task(second.execute(CLAIM, params))
        await asyncio.sleep(0.3)
        await first.commit()
        raced = (await racing).one()
        await second.commit()
    assert held[1] == 1
    assert raced[1] == 2
    assert await stored(session) == 1
