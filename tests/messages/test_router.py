"""Posting, fetching, catch-up sync and receipts through the HTTP API."""

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from cordon_client.wire import NO_LABELS, Labels, MessageRef
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.messages.helpers import (
    envelope,
    message_id,
    post,
    receipt,
    ref_of,
    sealed,
    sync_all,
)


def messages(items: list[dict[str, object]]) -> list[dict[str, object]]:
    """Drop the server-written membership items."""
    return [i for i in items if i["kind"] not in ("membership", "receipt")]


async def test_post_assigns_gap_free_sequence(client: httpx.AsyncClient, session: AsyncSession):
    """Each accepted post takes the next seq of its group's stream."""
    g = await f.group_with_roles(client, session)
    seqs = [(await post(client, g.member, g.group_id)).json()["seq"] for _ in range(3)]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]


async def test_concurrent_posts_get_distinct_consecutive_seqs(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Posts racing each other still produce a gap-free, duplicate-free sequence."""
    g = await f.group_with_roles(client, session)
    responses = await asyncio.gather(*(post(client, g.member, g.group_id) for _ in range(40)))
    seqs = sorted(r.json()["seq"] for r in responses)
    assert all(r.status_code == 201 for r in responses)
    assert seqs == list(range(seqs[0], seqs[0] + 40))


async def test_replayed_client_msg_id_returns_the_original(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A retried post (same client_msg_id) gets 200 and the stored item, never a second copy."""
    g = await f.group_with_roles(client, session)
    url, mid = f"/api/v1/groups/{g.group_id}/messages", message_id()
    body = {
        "kind": "alert",
        "client_msg_id": mid,
        "envelope": envelope(g.member, g.group_id, client_msg_id=mid),
    }
    first = await client.post(url, headers=g.member.headers, json=body)
    again = await client.post(url, headers=g.member.headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["seq"] == first.json()["seq"]


async def test_concurrent_replays_store_once(client: httpx.AsyncClient, session: AsyncSession):
    """The same client_msg_id posted many times at once is stored exactly once."""
    g = await f.group_with_roles(client, session)
    url, mid = f"/api/v1/groups/{g.group_id}/messages", message_id()
    body = {
        "kind": "alert",
        "client_msg_id": mid,
        "envelope": envelope(g.member, g.group_id, client_msg_id=mid),
    }
    rs = await asyncio.gather(
        *(client.post(url, headers=g.member.headers, json=body) for _ in range(20))
    )
    assert {r.json()["seq"] for r in rs} == {rs[0].json()["seq"]}
    assert sorted(r.status_code for r in rs) == [200] * 19 + [201]


async def test_reused_client_msg_id_with_other_content_conflicts(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Reusing a client_msg_id for a different envelope is a 409, never an overwrite."""
    g = await f.group_with_roles(client, session)
    await post(client, g.member, g.group_id, "a", client_msg_id="x")
    f.assert_problem(
        await post(client, g.member, g.group_id, "b", client_msg_id="x"),
        409,
        "messages.client_msg_id_reused",
    )


async def test_observers_cannot_post(client: httpx.AsyncClient, session: AsyncSession):
    """Observers read but do not post."""
    g = await f.group_with_roles(client, session)
    f.assert_problem(await post(client, g.observer, g.group_id), 403, "group.role_required")


async def test_outsiders_get_not_found(client: httpx.AsyncClient, session: AsyncSession):
    """Posting to a group the device is not in looks like posting to no group at all."""
    g = await f.group_with_roles(client, session)
    f.assert_problem(await post(client, g.outsider, g.group_id), 404, "group.not_found")


async def test_archived_groups_refuse_posts(client: httpx.AsyncClient, session: AsyncSession):
    """An archived group is read-only."""
    g = await f.group_with_roles(client, session)
    await f.archive(client, g)
    f.assert_problem(await post(client, g.member, g.group_id), 409, "group.read_only")


async def test_oversized_envelope_is_refused(client: httpx.AsyncClient, session: AsyncSession):
    """An envelope over the configured limit gets a 413 with a stable code."""
    g = await f.group_with_roles(client, session)
    big = base64.b64encode(b"x" * (262_144 + 1)).decode()
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/messages",
        headers=g.member.headers,
        json={"kind": "alert", "client_msg_id": "big", "envelope": big},
    )
    f.assert_problem(r, 413, "messages.envelope_too_large")


async def test_bad_input_is_refused(client: httpx.AsyncClient, session: AsyncSession):
    """Unknown or server-only kinds, bad base64 and bad ids are 422s."""
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/messages"
    good = {
        "kind": "alert",
        "client_msg_id": message_id(),
        "envelope": envelope(g.member, g.group_id),
    }
    for extra in (
        {"kind": "telepathy"},
        {"kind": "receipt"},
        {"kind": "membership"},
        {"envelope": "@@not base64@@"},
        {"client_msg_id": "has space"},
        {"recipients": []},
        {"parent_seq": 0},
    ):
        r = await client.post(url, headers=g.member.headers, json={**good, **extra})
        f.assert_problem(r, 422, "core.invalid_input")


async def test_forged_or_misrouted_envelopes_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """An envelope that is truncated, signed by another device, sealed for another group or
    under another message id is refused before anything is stored."""
    g = await f.group_with_roles(client, session)
    other = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/messages"
    mid = message_id()
    cases = [
        sealed(g.member, g.group_id, client_msg_id=mid)[:-1],
        sealed(g.coordinator, g.group_id, client_msg_id=mid),
        sealed(g.member, other.group_id, client_msg_id=mid),
        sealed(g.member, g.group_id, client_msg_id=message_id()),
    ]
    for raw in cases:
        r = await client.post(
            url,
            headers=g.member.headers,
            json={
                "kind": "alert",
                "client_msg_id": mid,
                "envelope": base64.b64encode(raw).decode(),
            },
        )
        f.assert_problem(r, 422, "messages.invalid_envelope")
    items, _ = await sync_all(client, g.coordinator)
    assert messages(items) == []


ROUTING_LIES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # name: (signed labels/kind, posted routing copy, the problem's detail prefix)
    "kind": ({"kind": "chat"}, {"kind": "alert"}, "kind:"),
    "urgent added": ({}, {"urgent": True}, "urgent:"),
    "urgent dropped": ({"labels": Labels(urgent=True)}, {}, "urgent:"),
    "parent without target": ({}, {"parent_seq": "PARENT"}, "parent_seq:"),
    "target without parent": ({"labels": "REPLY"}, {}, "parent_seq:"),
    "parent moved": ({"labels": "REPLY"}, {"parent_seq": "OTHER"}, "parent_seq:"),
}


@pytest.mark.parametrize("route", ["single", "batch"])
async def test_routing_copy_must_match_the_signed_labels(
    client: httpx.AsyncClient, session: AsyncSession, route: str
):
    """Kind, urgency and reply target are signed; a posted copy that says otherwise is a 422
    `messages.routing_mismatch` on the single and the batch route alike, and nothing is
    stored (docs/PROTOCOL.md §5.5)."""
    g = await f.group_with_roles(client, session)
    parent = (await post(client, g.member, g.group_id, "case")).json()
    other = (await post(client, g.member, g.group_id, "other case")).json()
    target = MessageRef(uuid.UUID(parent["sender_device_id"]), uuid.UUID(parent["client_msg_id"]))
    seqs = {"PARENT": parent["seq"], "OTHER": other["seq"]}
    for name, (signed, posted, detail) in ROUTING_LIES.items():
        mid = message_id()
        labels = signed.get("labels", NO_LABELS)
        labels = Labels(reply_to=target) if labels == "REPLY" else labels
        raw = sealed(
            g.coordinator,
            g.group_id,
            kind=signed.get("kind", "alert"),
            client_msg_id=mid,
            labels=labels,
        )
        body = {"kind": "alert", "client_msg_id": mid, "envelope": base64.b64encode(raw).decode()}
        body |= {k: seqs.get(v, v) if isinstance(v, str) else v for k, v in posted.items()}
        if route == "single":
            r = await client.post(
                f"/api/v1/groups/{g.group_id}/messages", headers=g.coordinator.headers, json=body
            )
            problem = f.assert_problem(r, 422, "messages.routing_mismatch")
        else:
            r = await client.post(
                f"/api/v1/groups/{g.group_id}/messages/batch",
                headers=g.coordinator.headers,
                json={"messages": [body]},
            )
            (result,) = r.json()["results"]
            assert result["status"] == 422, name
            problem = result["problem"]
            assert problem["code"] == "messages.routing_mismatch", name
        assert str(problem["detail"]).startswith(detail), (name, problem)
    honest = sealed(
        g.coordinator,
        g.group_id,
        client_msg_id=(mid := message_id()),
        labels=Labels(urgent=True, reply_to=target),
    )
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/messages",
        headers=g.coordinator.headers,
        json={
            "kind": "alert",
            "client_msg_id": mid,
            "envelope": base64.b64encode(honest).decode(),
            "urgent": True,
            "parent_seq": parent["seq"],
        },
    )
    assert r.status_code == 201, r.text
    items, _ = await sync_all(client, g.observer)
    assert [i["seq"] for i in messages(items)] == [parent["seq"], other["seq"], r.json()["seq"]]


async def test_prenotifications_go_through_their_own_route(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Pre-notifications and their events are refused here: only the workflow route enforces
    their routing rule and state machine."""
    g = await f.group_with_roles(client, session)
    for kind in ("prenotification", "prenotification_event"):
        mid = message_id()
        body = {
            "kind": kind,
            "client_msg_id": mid,
            "recipients": [g.coordinator.device_id],
            "envelope": envelope(
                g.member,
                g.group_id,
                kind="prenotification",
                client_msg_id=mid,
                recipients=[g.coordinator.device_id],
            ),
        }
        r = await client.post(
            f"/api/v1/groups/{g.group_id}/messages", headers=g.member.headers, json=body
        )
        f.assert_problem(r, 422, "messages.kind_not_postable")


async def test_targeted_kinds_need_recipients_who_are_members(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Sender keys never go to the whole group, and only to member devices."""
    g = await f.group_with_roles(client, session)
    mid = message_id()
    targeted = envelope(
        g.member,
        g.group_id,
        kind="sender_key",
        client_msg_id=mid,
        recipients=[g.coordinator.device_id],
    )
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/messages",
        headers=g.member.headers,
        json={"kind": "sender_key", "client_msg_id": mid, "envelope": targeted},
    )
    f.assert_problem(r, 422, "messages.invalid_envelope")
    f.assert_problem(
        await post(
            client, g.member, g.group_id, kind="sender_key", recipients=[g.outsider.device_id]
        ),
        422,
        "messages.invalid_recipients",
    )


async def test_reply_must_reference_an_existing_item(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A reply points at an earlier item of the same group; urgent is kept."""
    g = await f.group_with_roles(client, session)
    parent = (await post(client, g.member, g.group_id)).json()
    reply = await post(
        client, g.coordinator, g.group_id, kind="chat", parent_seq=parent["seq"], urgent=True
    )
    assert reply.status_code == 201, reply.text
    assert (reply.json()["parent_seq"], reply.json()["urgent"]) == (parent["seq"], True)
    f.assert_problem(
        await post(client, g.member, g.group_id, parent_seq=10_000),
        422,
        "messages.parent_not_found",
    )


async def test_sync_returns_everything_missed_exactly_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Paging through sync yields each missed item once, in seq order, and resumes cleanly."""
    g = await f.group_with_roles(client, session)
    sent = [(await post(client, g.member, g.group_id, f"m{i}")).json()["seq"] for i in range(7)]
    items, cursor = await sync_all(client, g.observer, limit=2)
    got = [i["seq"] for i in messages(items)]
    assert got == sent
    assert [i["seq"] for i in items] == sorted({i["seq"] for i in items})
    later = (await post(client, g.member, g.group_id, "late")).json()["seq"]
    items, _ = await sync_all(client, g.observer, cursor)
    assert [i["seq"] for i in items] == [later]


async def test_sync_is_isolated_per_group(client: httpx.AsyncClient, session: AsyncSession):
    """A device never sees another group's items, and the group filter narrows the scope."""
    a = await f.group_with_roles(client, session)
    b = await f.group_with_roles(client, session)
    await post(client, a.member, a.group_id, "for a")
    await post(client, b.member, b.group_id, "for b")
    items, _ = await sync_all(client, a.member)
    assert {i["group_id"] for i in items} == {a.group_id}
    items, _ = await sync_all(client, a.member, group_id=a.group_id)
    assert {i["group_id"] for i in items} == {a.group_id}
    r = await client.get("/api/v1/sync", headers=a.member.headers, params={"group_id": b.group_id})
    f.assert_problem(r, 404, "group.not_found")


async def test_targeted_items_reach_only_their_recipients(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The read rule is applied to sync and fetch alike."""
    g = await f.group_with_roles(client, session)
    r = await post(
        client, g.member, g.group_id, kind="sender_key", recipients=[g.coordinator.device_id]
    )
    seq = r.json()["seq"]
    for who, visible in (
        (g.coordinator, True),
        (g.member, True),
        (g.observer, False),
        (g.co_coordinator, False),
    ):
        items, _ = await sync_all(client, who)
        assert (seq in [i["seq"] for i in items]) is visible
        fetched = await client.get(
            f"/api/v1/groups/{g.group_id}/messages/{seq}", headers=who.headers
        )
        assert fetched.status_code == (200 if visible else 404)


async def test_new_members_do_not_read_earlier_history(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Items appended before a user joined are not readable by them."""
    g = await f.group_with_roles(client, session)
    await post(client, g.member, g.group_id, "before")
    late = await f.actor(client, session)
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/members",
        headers=g.coordinator.headers,
        json={"user_id": late.id, "role": "member"},
    )
    assert r.status_code == 201
    after = (await post(client, g.member, g.group_id, "after")).json()["seq"]
    items, _ = await sync_all(client, late)
    assert [i["seq"] for i in messages(items)] == [after]


async def test_membership_changes_are_on_the_stream(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Membership events reach devices through the same stream, as JSON envelopes."""
    g = await f.group_with_roles(client, session)
    items, _ = await sync_all(client, g.coordinator)
    kinds = [
        json.loads(base64.b64decode(i["envelope"]))["kind"]
        for i in items
        if i["kind"] == "membership"
    ]
    assert kinds.count("member_added") == 4  # the coordinator and the three others
    assert kinds[-1] == "status_changed"


async def test_forged_and_out_of_range_cursors_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A garbled cursor and a cursor past the stream's end are clear 400s."""
    g = await f.group_with_roles(client, session)
    for bad in ("nonsense", "c1.!!!", "c1." + base64.urlsafe_b64encode(b"[1]").decode()):
        r = await client.get("/api/v1/sync", headers=g.member.headers, params={"cursor": bad})
        f.assert_problem(r, 400, "messages.invalid_cursor")
    body = json.dumps({uuid.UUID(g.group_id).hex: 10_000}).encode()
    ahead = "c1." + base64.urlsafe_b64encode(body).decode().rstrip("=")
    r = await client.get("/api/v1/sync", headers=g.member.headers, params={"cursor": ahead})
    f.assert_problem(r, 400, "messages.cursor_out_of_range")


async def test_receipts_reach_the_sender(client: httpx.AsyncClient, session: AsyncSession):
    """Delivered then read receipts are recorded once each and pushed to the sender only."""
    g = await f.group_with_roles(client, session)
    sent = (
        await post(
            client, g.member, g.group_id, kind="sender_key", recipients=[g.coordinator.device_id]
        )
    ).json()
    _, sender_cursor = await sync_all(client, g.member)
    for status in ("delivered", "delivered", "read", "read"):
        signed = receipt(g.coordinator, g.group_id, sent["seq"], status, ref_of(sent))
        r = await client.post(
            "/api/v1/receipts", headers=g.coordinator.headers, json={"receipts": [signed]}
        )
        assert r.status_code == 204, r.text
    items, _ = await sync_all(client, g.member, sender_cursor)
    statuses = [
        json.loads(base64.b64decode(i["envelope"]))["status"]
        for i in items
        if i["kind"] == "receipt"
    ]
    assert statuses == ["delivered", "read"]
    r = await client.get(
        f"/api/v1/groups/{g.group_id}/messages/{sent['seq']}/receipts", headers=g.member.headers
    )
    assert [x["device_id"] for x in r.json()] == [g.coordinator.device_id]
    assert r.json()[0]["read_at"] is not None
    observer_items, _ = await sync_all(client, g.observer)
    assert not [i for i in observer_items if i["kind"] == "receipt"]


async def test_receipts_for_unreadable_items_are_not_found(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A device cannot acknowledge what it may not read."""
    g = await f.group_with_roles(client, session)
    sent = (
        await post(
            client, g.member, g.group_id, kind="sender_key", recipients=[g.coordinator.device_id]
        )
    ).json()
    signed = receipt(g.observer, g.group_id, sent["seq"], "read", ref_of(sent))
    r = await client.post(
        "/api/v1/receipts", headers=g.observer.headers, json={"receipts": [signed]}
    )
    f.assert_problem(r, 404, "messages.not_found")


async def test_a_receipt_must_be_signed_by_the_receipting_device(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Receipts are signed by the device that sends them, for the item as its sender named
    it: another device's signature, another item's name or an edited status is a 422
    `messages.invalid_receipt` and nothing reaches the sender."""
    g = await f.group_with_roles(client, session)
    sent = (await post(client, g.member, g.group_id)).json()
    _, cursor = await sync_all(client, g.member)
    forged = {
        "another device": receipt(g.observer, g.group_id, sent["seq"], "read", ref_of(sent)),
        "another item": receipt(g.coordinator, g.group_id, sent["seq"], "read"),
        "status edited": receipt(g.coordinator, g.group_id, sent["seq"], "delivered", ref_of(sent))
        | {"status": "read"},
    }
    for name, body in forged.items():
        r = await client.post(
            "/api/v1/receipts", headers=g.coordinator.headers, json={"receipts": [body]}
        )
        problem = f.assert_problem(r, 422, "messages.invalid_receipt")
        assert problem["detail"] == (
            f"receipt for seq {sent['seq']}: the signature does not verify under the "
            "receipting device's key"
        ), name
    items, _ = await sync_all(client, g.member, cursor)
    assert not [i for i in items if i["kind"] == "receipt"]


async def test_envelopes_round_trip_byte_for_byte(client: httpx.AsyncClient, session: AsyncSession):
    """The server stores and returns the envelope unchanged."""
    g = await f.group_with_roles(client, session)
    mid = message_id()
    raw = sealed(g.member, g.group_id, "x" * 1000, kind="chat", client_msg_id=mid)
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/messages",
        headers=g.member.headers,
        json={"kind": "chat", "client_msg_id": mid, "envelope": base64.b64encode(raw).decode()},
    )
    fetched = await client.get(
        f"/api/v1/groups/{g.group_id}/messages/{r.json()['seq']}", headers=g.observer.headers
    )
    assert base64.b64decode(fetched.json()["envelope"]) == raw
