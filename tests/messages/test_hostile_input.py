"""Hostile HTTP input answered with a 4xx problem, never a 500 (issue 15, findings 1-4, 11):
bodies every route reads with the one reader, integers every route bounds with the one
type, cursors, receipts for groups that do not exist, replays that change a routing field,
and what the API fuzzing test found besides."""

import base64
import json
import uuid
from typing import Any

import httpx
import pytest
from cordon_client.wire import Labels
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.schemas import INT_MAX
from tests import factories as f
from tests.factories import GroupSetup
from tests.messages.helpers import envelope, message_id, post, receipt, ref_of

NESTED = b"[" * 50_000 + b"]" * 50_000
BAD_BODIES = {
    "invalid UTF-8": b'{"kind": "alert", "client_msg_id": "\xff"}',
    "deeply nested": NESTED,
    "a lone surrogate": b'{"kind": "alert", "client_msg_id": "\\ud800"}',
    "NaN": b'{"kind": NaN}',
}
HUGE = [2**63, 2**64 + 1, INT_MAX + 1]


def _post_body(g: GroupSetup) -> dict[str, Any]:
    mid = message_id()
    return {
        "kind": "alert",
        "client_msg_id": mid,
        "envelope": envelope(g.member, g.group_id, client_msg_id=mid),
    }


def _raw(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    return {"headers": headers | {"Content-Type": "application/json"}, "content": body}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_bad_bodies_are_400_on_the_single_post_and_the_batch(
    client: httpx.AsyncClient, session: AsyncSession, body: bytes
):
    """Finding 1: the plain-ASGI single post and the FastAPI batch route answer the same 400
    from the same reader; without a token the single post refuses before reading (401)."""
    g = await f.group_with_roles(client, session)
    single = f"/api/v1/groups/{g.group_id}/messages"
    for url in (single, f"{single}/batch"):
        f.assert_problem(
            await client.post(url, **_raw(g.member.headers, body)), 400, "core.malformed_json"
        )
        f.assert_problem(await client.post(url, **_raw({}, body)), 401, "auth.invalid_token")
    outsider = await client.post(single, **_raw(g.outsider.headers, body))
    f.assert_problem(outsider, 404, "group.not_found")  # authorised before it is parsed


async def test_bodies_not_declared_as_json_are_415_on_every_json_route(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The reader's content-type rule holds on the single post, the batch and any other
    JSON route (here group creation and receipts)."""
    g = await f.group_with_roles(client, session)
    text = json.dumps(_post_body(g)).encode()
    for url in (
        f"/api/v1/groups/{g.group_id}/messages",
        f"/api/v1/groups/{g.group_id}/messages/batch",
        "/api/v1/receipts",
        "/api/v1/groups",
    ):
        for content_type in ("text/plain", None):
            headers = g.coordinator.headers | (
                {"Content-Type": content_type} if content_type else {}
            )
            answer = await client.post(url, headers=headers, content=text)
            f.assert_problem(answer, 415, "core.unsupported_media_type")


async def test_integers_past_their_column_are_422_everywhere(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Finding 2: seqs, versions and positions in paths, queries and bodies that no column
    can hold are validation errors, not database errors."""
    g = await f.group_with_roles(client, session)
    base = f"/api/v1/groups/{g.group_id}"
    doc = uuid.uuid4()
    for n in HUGE:
        for url in (
            f"{base}/messages/{n}",
            f"{base}/messages/{n}/receipts",
            f"{base}/events?after_seq={n}",
            f"{base}/log?after_seq={n}",
            f"{base}/templates/customs.alert/versions/{n}",
            f"{base}/library/documents/{doc}/versions/{n}",
            f"{base}/library/documents/{doc}/versions/{n}/content",
        ):
            f.assert_problem(
                await client.get(url, headers=g.member.headers), 422, "core.invalid_input"
            )
        receipt = {"group_id": g.group_id, "seq": n, "status": "read"}
        answer = await client.post(
            "/api/v1/receipts", headers=g.member.headers, json={"receipts": [receipt]}
        )
        f.assert_problem(answer, 422, "core.invalid_input")
        reply = _post_body(g) | {"parent_seq": n}
        answer = await client.post(f"{base}/messages", headers=g.member.headers, json=reply)
        f.assert_problem(answer, 422, "core.invalid_input")


async def test_receipts_for_a_group_that_does_not_exist_are_404(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Finding 3: not a foreign-key error; the same answer as for a group one is not in."""
    g = await f.group_with_roles(client, session)
    posted = await post(client, g.member, g.group_id)
    assert posted.status_code == 201
    for group_id in (str(uuid.uuid4()), g.group_id):
        viewer = g.outsider if group_id == g.group_id else g.observer
        unknown = receipt(viewer, group_id, 1, "delivered")
        answer = await client.post(
            "/api/v1/receipts", headers=viewer.headers, json={"receipts": [unknown]}
        )
        f.assert_problem(answer, 404, "messages.not_found")
    ok = receipt(g.observer, g.group_id, posted.json()["seq"], "read", ref_of(posted.json()))
    answer = await client.post(
        "/api/v1/receipts", headers=g.observer.headers, json={"receipts": [ok]}
    )
    assert answer.status_code == 204, answer.text


def _cursor(payload: bytes) -> str:
    return "c1." + base64.urlsafe_b64encode(payload).decode().rstrip("=")


async def test_sync_refuses_hostile_and_empty_cursors_as_listings_do(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Finding 4 and 11: a cursor holding nested JSON, invalid JSON or nothing at all is a
    400, as an empty cursor is on the paged listings."""
    g = await f.group_with_roles(client, session)
    hostile = [
        _cursor(b"[" * 5000 + b"]" * 5000),
        _cursor(json.dumps({uuid.uuid4().hex: {"nested": [1]}}).encode()),
        _cursor(json.dumps({uuid.uuid4().hex: 2**63}).encode()),
        _cursor(b'{"\\ud800": 1}'),
        _cursor(b"\xff\xfe"),
        "",
    ]
    for cursor in hostile:
        answer = await client.get(
            "/api/v1/sync", headers=g.member.headers, params={"cursor": cursor}
        )
        f.assert_problem(answer, 400, "messages.invalid_cursor")
    listing = await client.get("/api/v1/users", headers=g.member.headers, params={"cursor": ""})
    assert listing.status_code == 400
    assert (await client.get("/api/v1/sync", headers=g.member.headers)).status_code == 200


@pytest.mark.parametrize("field", ["urgent", "parent_seq"])
async def test_a_replay_that_changes_a_routing_field_is_409(
    client: httpx.AsyncClient, session: AsyncSession, field: str
):
    """Finding 11: the same client_msg_id with only `urgent` (or the reply target) changed is
    a reuse for other content, on the single post and in a batch. Since protocol v2 signs
    those labels, the changed message carries an envelope signed with them; flipping only the
    routing copy of the stored envelope is a routing mismatch (422), never a replay (200)."""
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/messages"
    parent = (await post(client, g.member, g.group_id)).json()
    first = _post_body(g)
    assert (await client.post(url, headers=g.member.headers, json=first)).status_code == 201
    assert (await client.post(url, headers=g.member.headers, json=first)).status_code == 200
    routing = {"urgent": True} if field == "urgent" else {"parent_seq": parent["seq"]}
    labels = Labels(urgent=True) if field == "urgent" else Labels(reply_to=ref_of(parent))
    mid = first["client_msg_id"]
    signed = envelope(g.member, g.group_id, client_msg_id=mid, labels=labels)
    changed = first | routing | {"envelope": signed}
    f.assert_problem(
        await client.post(url, headers=g.member.headers, json=changed),
        409,
        "messages.client_msg_id_reused",
    )
    batch = await client.post(
        f"{url}/batch", headers=g.member.headers, json={"messages": [changed]}
    )
    assert batch.json()["results"][0]["status"] == 409
    f.assert_problem(
        await client.post(url, headers=g.member.headers, json=first | routing),
        422,
        "messages.routing_mismatch",
    )


async def test_fastapi_routes_check_the_bearer_header_before_reading_the_body(
    client: httpx.AsyncClient,
):
    """An anonymous caller cannot make any authenticated JSON route parse its body: the
    header check of `current_principal` runs first (401, not 400)."""
    for url in ("/api/v1/groups", "/api/v1/receipts", "/api/v1/devices/me/prekeys"):
        answer = await client.post(url, **_raw({}, NESTED))
        f.assert_problem(answer, 401, "auth.invalid_token")
        basic = await client.post(url, **_raw({"Authorization": "Basic eDp5"}, NESTED))
        f.assert_problem(basic, 401, "auth.invalid_token")


async def test_names_that_differ_only_in_non_ascii_case_are_409_not_500(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Found by fuzzing as an administrator: SQLite's lower() leaves 'Ò' alone, so the
    name check missed 'Òpération' against itself and the insert hit the unique index."""
    admin = await f.actor(client, session, admin=True, totp=True)
    coordinator = await f.actor(client, session, totp=True)
    name = f"Òpération {uuid.uuid4().hex[:6]}"
    group = {"name": name, "coordinator_id": coordinator.id}
    first = await client.post("/api/v1/groups", headers=admin.headers, json=group)
    assert first.status_code == 201, first.text
    again = await client.post("/api/v1/groups", headers=admin.headers, json=group)
    f.assert_problem(again, 409, "group.name_taken")
    org = {"name": f"Ädministration {uuid.uuid4().hex[:6]}", "country_code": "BE", "region": "EUR"}
    assert (
        await client.post("/api/v1/organisations", headers=admin.headers, json=org)
    ).status_code == 201
    repeated = await client.post("/api/v1/organisations", headers=admin.headers, json=org)
    f.assert_problem(repeated, 409, "organisation.name_taken")
