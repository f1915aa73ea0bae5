"""Batch posting: several envelopes in one request and one group commit, answered one by one."""

import base64
from typing import Any

import httpx
from cordon_client.wire import Labels
from sqlalchemy.ext.asyncio import AsyncSession

from app.messages.schemas import MessageBatchRead
from tests import factories as f
from tests.factories import Actor
from tests.messages.helpers import envelope, message_id, post, sealed, some_ref, sync_all


def alert(
    who: Actor, group_id: str, text: str = "hello", mid: str | None = None, **kw: Any
) -> dict[str, Any]:
    mid = mid or message_id()
    return {
        "kind": "alert",
        "client_msg_id": mid,
        "envelope": envelope(who, group_id, text, client_msg_id=mid, **kw),
    }


def reply_to_nothing(who: Actor, group_id: str) -> dict[str, Any]:
    """A signed reply whose parent_seq names no item yet."""
    signed = alert(who, group_id, "reply", labels=Labels(reply_to=some_ref()))
    return {**signed, "parent_seq": 100_000}


async def post_batch(
    client: httpx.AsyncClient, who: Actor, group_id: str, messages: list[dict[str, Any]]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/groups/{group_id}/messages/batch",
        headers=who.headers,
        json={"messages": messages},
    )


async def stored_alerts(client: httpx.AsyncClient, who: Actor) -> list[str]:
    items, _ = await sync_all(client, who)
    return [i["client_msg_id"] for i in items if i["kind"] == "alert"]


async def test_a_batch_is_stored_in_order_with_consecutive_seqs(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Every message of a batch is stored once, in the submitted order, and readable."""
    g = await f.group_with_roles(client, session)
    batch = [alert(g.member, g.group_id, f"m{i}") for i in range(12)]
    r = await post_batch(client, g.member, g.group_id, batch)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201] * 12
    seqs = [x["seq"] for x in results]
    assert seqs == list(range(seqs[0], seqs[0] + 12))
    assert [x["client_msg_id"] for x in results] == [m["client_msg_id"] for m in batch]
    assert await stored_alerts(client, g.observer) == [m["client_msg_id"] for m in batch]
    MessageBatchRead.model_validate(r.json())  # the documented response model holds


async def test_each_message_is_answered_on_its_own(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Refused messages get the problem the single route gives; the others are stored."""
    g = await f.group_with_roles(client, session)
    stored = alert(g.member, g.group_id, "already stored")
    first = await post_batch(client, g.member, g.group_id, [stored])
    assert first.status_code == 200, first.text
    first_seq = first.json()["results"][0]["seq"]
    forged_mid = message_id()
    forged = {
        "kind": "alert",
        "client_msg_id": forged_mid,
        "envelope": base64.b64encode(
            sealed(g.coordinator, g.group_id, client_msg_id=forged_mid)  # another device
        ).decode(),
    }
    oversized = {
        "kind": "alert",
        "client_msg_id": "big",
        "envelope": base64.b64encode(b"x" * 262_145).decode(),
    }
    reused = alert(g.member, g.group_id, "other content", mid=stored["client_msg_id"])
    fresh = alert(g.member, g.group_id, "fresh")
    reply = reply_to_nothing(g.member, g.group_id)
    r = await post_batch(
        client, g.member, g.group_id, [forged, fresh, oversized, stored, reused, reply]
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [422, 201, 413, 200, 409, 422]
    codes = [x["problem"]["code"] if x["problem"] else None for x in results]
    assert codes == [
        "messages.invalid_envelope",
        None,
        "messages.envelope_too_large",
        None,
        "messages.client_msg_id_reused",
        "messages.parent_not_found",
    ]
    assert [x["client_msg_id"] for x in results] == [
        m["client_msg_id"] for m in (forged, fresh, oversized, stored, reused, reply)
    ]
    assert results[3]["seq"] == first_seq  # the replay answers with the stored item's seq
    assert [x["seq"] is None for x in results] == [True, False, True, False, True, True]
    assert await stored_alerts(client, g.observer) == [
        stored["client_msg_id"],
        fresh["client_msg_id"],
    ]


async def test_a_repeat_inside_a_batch_is_stored_once(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The same message twice in one batch: stored once, the second answered as a replay."""
    g = await f.group_with_roles(client, session)
    once = alert(g.member, g.group_id)
    r = await post_batch(client, g.member, g.group_id, [once, once])
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 200]
    assert results[0]["seq"] == results[1]["seq"]
    assert await stored_alerts(client, g.observer) == [once["client_msg_id"]]


async def test_replays_and_refusals_leave_no_gap_in_the_stream(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A batch's seqs are reserved before its replays and refusals are known; the unused ones
    are given back, so the next item follows the last one stored."""
    g = await f.group_with_roles(client, session)
    stored = alert(g.member, g.group_id, "stored")
    await post_batch(client, g.member, g.group_id, [stored])
    fresh = alert(g.member, g.group_id, "fresh")
    unknown_parent = reply_to_nothing(g.member, g.group_id)
    r = await post_batch(client, g.member, g.group_id, [stored, fresh, fresh, unknown_parent])
    assert [x["status"] for x in r.json()["results"]] == [200, 201, 200, 422]
    fresh_seq = r.json()["results"][1]["seq"]
    only_replays = await post_batch(client, g.member, g.group_id, [stored, fresh])
    assert [x["status"] for x in only_replays.json()["results"]] == [200, 200]
    after = await post(client, g.member, g.group_id, "after")
    assert after.json()["seq"] == fresh_seq + 1


async def test_batch_posting_follows_the_posting_rules(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Observers, outsiders, archived groups, empty or too long batches: refused whole."""
    g = await f.group_with_roles(client, session)
    one = [alert(g.member, g.group_id)]
    f.assert_problem(
        await post_batch(client, g.observer, g.group_id, one), 403, "group.role_required"
    )
    f.assert_problem(await post_batch(client, g.outsider, g.group_id, one), 404, "group.not_found")
    f.assert_problem(await post_batch(client, g.member, g.group_id, []), 422, "core.invalid_input")
    too_many = [alert(g.member, g.group_id) for _ in range(257)]
    r = await post_batch(client, g.member, g.group_id, too_many)
    assert r.status_code in (413, 422)
    assert r.headers["content-type"] == "application/problem+json"
    bad_kind = [{**one[0], "kind": "membership"}]
    f.assert_problem(
        await post_batch(client, g.member, g.group_id, bad_kind), 422, "core.invalid_input"
    )
    assert await stored_alerts(client, g.observer) == []
    await f.archive(client, g)
    f.assert_problem(await post_batch(client, g.member, g.group_id, one), 409, "group.read_only")
    f.assert_problem(await post(client, g.member, g.group_id), 409, "group.read_only")
