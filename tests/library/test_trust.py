"""The server's part of protocol v2 for documents and history (PROTOCOL.md §8, §9): keying by
coordinators only, manifests signed by the uploading device for exactly this version and
category, a version's manifest fixed once published, and history served only on a logged
grant. Each refusal is a problem+json with a stable code and writes nothing."""

import json
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.models import GroupLogEntry
from app.library.models import Upload
from app.messages.models import StreamItem
from tests import factories as f
from tests.library import helpers as h
from tests.messages import helpers as m


async def _count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("role", "code"),
    [("member", "library.keying_not_allowed"), ("observer", "group.role_required")],
)
async def test_only_coordinators_post_document_keys_and_grants(
    client: httpx.AsyncClient, session: AsyncSession, role: str, code: str
):
    """A DOCUMENT_KEY (kind library) from a member (or an observer, who posts nothing) is
    403, nothing stored; the coordinator's is stored."""
    g = await f.group_with_roles(client, session)
    who = getattr(g, role)
    before = await _count(session, StreamItem)
    r = await m.post(
        client, who, g.group_id, "key", kind="library", recipients=[g.member.device_id]
    )
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert await _count(session, StreamItem) == before
    ok = await m.post(
        client, g.coordinator, g.group_id, "key", kind="library", recipients=[g.member.device_id]
    )
    assert ok.status_code == 201, ok.text


async def test_manifest_must_be_signed_by_the_uploading_device(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A manifest signed by another key, naming another device or version, or another
    category is refused with the field named; no upload is opened."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"x", device_id=g.coordinator.device_id)  # wrong key
    body = h.upload_body(enc)
    url = f"/api/v1/groups/{g.group_id}/library/uploads"
    r = await client.post(url, headers=g.coordinator.headers, json=body)
    assert (r.status_code, r.json()["code"]) == (422, "library.invalid_manifest")
    assert "signature is not the uploading device's" in r.json()["detail"]

    other_device = h.encrypt(g.group_id, b"x", signing=g.coordinator.signing_key)
    r = await client.post(url, headers=g.coordinator.headers, json=h.upload_body(other_device))
    assert r.json()["code"] == "library.invalid_manifest"
    assert "uploader_device_id" in r.json()["detail"]

    mine = h.encrypt(
        g.group_id,
        b"x",
        device_id=g.coordinator.device_id,
        signing=g.coordinator.signing_key,
        category="training",
    )
    r = await client.post(url, headers=g.coordinator.headers, json=h.upload_body(mine))
    assert (r.status_code, r.json()["code"]) == (422, "library.category_mismatch")
    assert "'training'" in r.json()["detail"] and "'newsletter'" in r.json()["detail"]
    r = await client.post(
        url, headers=g.coordinator.headers, json=h.upload_body(mine, version=2, document_id=None)
    )
    assert r.status_code == 422
    assert await _count(session, Upload) == 0


async def test_a_published_version_keeps_its_manifest(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A second upload of an existing version, with another key and manifest, is refused."""
    g = await f.group_with_roles(client, session)
    first = h.encrypt(g.group_id, b"first")
    await h.publish(client, g.coordinator, g.group_id, first)
    swap = h.encrypt(g.group_id, b"swapped", document_id=first.document_id, version=1)
    r = await h.open_upload(client, g.coordinator, g.group_id, swap)
    assert (r.status_code, r.json()["code"]) == (409, "library.version_conflict")
    served = await client.get(
        f"/api/v1/groups/{g.group_id}/library/documents/{first.document_id}/versions/1",
        headers=g.member.headers,
    )
    assert served.json()["manifest"] == f.b64(first.manifest.to_bytes())


async def test_history_is_served_only_on_a_logged_grant(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Earlier items of a scope are served to a member the log grants it, and only items of
    that scope; without the grant (or for another scope) it is 403."""
    g = await f.group_with_roles(client, session)
    case = await m.post(client, g.coordinator, g.group_id, "case", kind="alert")
    chat = await m.post(client, g.coordinator, g.group_id, "general chat", kind="chat")
    seqs = [case.json()["seq"], chat.json()["seq"]]
    url = f"/api/v1/groups/{g.group_id}/history/cases"
    r = await client.get(url, headers=g.member.headers, params={"seq": seqs})
    assert (r.status_code, r.json()["code"]) == (403, "library.history_not_granted")
    entry = {"body": {"member_id": g.member.id, "scope": "cases"}}
    session.add(
        GroupLogEntry(
            group_id=uuid.UUID(g.group_id),
            seq=1,
            op="grant_history",
            entry_hash=bytes(32),
            entry_json=json.dumps(entry),
        )
    )
    await session.commit()
    r = await client.get(url, headers=g.member.headers, params={"seq": seqs})
    assert r.status_code == 200, r.text
    assert [i["seq"] for i in r.json()] == [seqs[0]]  # a chat outside a case thread is not
    other = await client.get(
        f"/api/v1/groups/{g.group_id}/history/prenotifications",
        headers=g.member.headers,
        params={"seq": seqs},
    )
    assert other.status_code == 403
    bad = await client.get(
        f"/api/v1/groups/{g.group_id}/history/library", headers=g.member.headers, params={"seq": 1}
    )
    assert bad.status_code == 422
