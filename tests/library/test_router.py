"""The library API: publishing, versions, limits, refusals and what stays invisible."""

import hashlib
import os
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cordon_client.crypto import decrypt_document, decrypt_metadata, verify_manifest
from cordon_client.crypto.keys import public_bytes
from cordon_client.crypto.stream import Manifest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import utcnow
from app.groups.models import Group
from app.library.models import Upload
from app.messages.models import StreamItem
from tests import factories as f
from tests.library import helpers as h

SEG = 64 * 1024


def _data(n: int) -> bytes:
    return os.urandom(n)


async def test_publish_and_download_round_trip(client: httpx.AsyncClient, session: AsyncSession):
    """A member downloads exactly the ciphertext published; it decrypts and verifies."""
    g = await f.group_with_roles(client, session)
    data = _data(3 * SEG + 123)
    enc = h.encrypt(g.group_id, data)
    version = await h.publish(client, g.coordinator, g.group_id, enc)
    assert version["segment_count"] == 4 and version["size"] == len(data) + 4 * 16
    r = await client.get(h.content_url(g.group_id, enc.document_id), headers=g.member.headers)
    assert r.status_code == 200 and r.headers["accept-ranges"] == "bytes"
    manifest = Manifest.from_bytes(enc.manifest.to_bytes())
    verify_manifest(manifest, public_bytes(enc.signing_key))
    assert decrypt_document(enc.key.key, manifest, r.content) == data
    assert decrypt_metadata(manifest, enc.key.key) == ("report.pdf", "application/pdf")


async def test_observer_lists_and_reads_versions(client: httpx.AsyncClient, session: AsyncSession):
    """A new version supersedes the old one in the listing; both stay downloadable."""
    g = await f.group_with_roles(client, session)
    v1 = h.encrypt(g.group_id, b"first")
    await h.publish(client, g.coordinator, g.group_id, v1, category="daily_report")
    v2 = h.encrypt(
        g.group_id, b"second", document_id=v1.document_id, version=2, category="daily_report"
    )
    await h.publish(client, g.co_coordinator, g.group_id, v2, category=None)
    base = f"/api/v1/groups/{g.group_id}/library/documents"
    listing = (await client.get(base, headers=g.observer.headers)).json()
    assert [(d["latest_version"], d["category"]) for d in listing["items"]] == [(2, "daily_report")]
    assert listing["items"][0]["latest"]["manifest"] == f.b64(v2.manifest.to_bytes())
    versions = await client.get(f"{base}/{v1.document_id}/versions", headers=g.observer.headers)
    assert [v["version"] for v in versions.json()] == [1, 2]
    old = await client.get(h.content_url(g.group_id, v1.document_id, 1), headers=g.observer.headers)
    assert decrypt_document(v1.key.key, v1.manifest, old.content) == b"first"
    other = await client.get(f"{base}?category=training", headers=g.observer.headers)
    assert other.json()["items"] == []


async def test_listing_pages_with_a_cursor(client: httpx.AsyncClient, session: AsyncSession):
    """Pages follow each other without gaps or repeats."""
    g = await f.group_with_roles(client, session)
    ids = set()
    for _ in range(3):
        enc = h.encrypt(g.group_id, b"x")
        await h.publish(client, g.coordinator, g.group_id, enc)
        ids.add(str(enc.document_id))
    base = f"/api/v1/groups/{g.group_id}/library/documents"
    first = (await client.get(f"{base}?limit=2", headers=g.member.headers)).json()
    second = (
        await client.get(f"{base}?limit=2&cursor={first['next_cursor']}", headers=g.member.headers)
    ).json()
    seen = [d["id"] for d in first["items"] + second["items"]]
    assert sorted(seen) == sorted(ids) and second["next_cursor"] is None


async def test_range_requests_serve_single_segments(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A client can fetch one segment by byte range; bad ranges are 416."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(2 * SEG + 5))
    await h.publish(client, g.coordinator, g.group_id, enc)
    url = h.content_url(g.group_id, enc.document_id)
    full = SEG + 16
    r = await client.get(url, headers={**g.member.headers, "Range": f"bytes={full}-{2 * full - 1}"})
    assert r.status_code == 206 and r.content == enc.segments[1]
    assert r.headers["content-range"] == f"bytes {full}-{2 * full - 1}/{enc.size}"
    bad = await client.get(url, headers={**g.member.headers, "Range": "bytes=99999999-"})
    f.assert_problem(bad, 416, "library.range_not_satisfiable")


async def test_segment_retry_is_idempotent_and_conflicts_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Same index and bytes: 200 no-op; same index, other bytes: 409 and the first stays."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(SEG + 10))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    first = await h.put_segment(client, g.coordinator, upload_id, 0, enc.segments[0])
    again = await h.put_segment(client, g.coordinator, upload_id, 0, enc.segments[0])
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"index": 0, "stored": False, "count": 1}
    forged = bytes([enc.segments[0][0] ^ 1]) + enc.segments[0][1:]
    conflict = await h.put_segment(client, g.coordinator, upload_id, 0, forged)
    f.assert_problem(conflict, 409, "library.segment_conflict")
    await h.put_segment(client, g.coordinator, upload_id, 1, enc.segments[1])
    assert (await h.finalise(client, g.coordinator, upload_id, enc)).status_code == 201


async def test_several_segments_in_one_body(client: httpx.AsyncClient, session: AsyncSession):
    """A body carrying consecutive segments stores each one; a body that is short, long or
    past the last segment is refused and the upload still finalises from correct PUTs."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(3 * SEG + 5))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    url = f"/api/v1/library/segments/{upload_id}/1"
    both = enc.segments[1] + enc.segments[2]
    headers = g.coordinator.headers
    for body, count, code in (
        (both[:-1], 2, "library.segment_size"),
        (both + b"x", 2, "library.segment_too_large"),
        (both, 4, "library.segment_out_of_range"),
    ):
        r = await client.put(url, params={"count": count}, headers=headers, content=body)
        assert r.status_code in (413, 422), r.text
        assert r.json()["code"] == code
    r = await client.put(url, params={"count": 2}, headers=headers, content=both)
    assert r.status_code in (200, 201) and r.json()["count"] == 2, r.text
    r = await client.put(
        f"/api/v1/library/segments/{upload_id}/0",
        params={"count": 1},
        headers=headers,
        content=enc.segments[0],
    )
    assert r.status_code == 201
    r = await client.put(
        f"/api/v1/library/segments/{upload_id}/3", headers=headers, content=enc.segments[3]
    )
    assert r.status_code == 201
    assert (await h.finalise(client, g.coordinator, upload_id, enc)).status_code == 201


async def test_resume_reports_received_ranges(client: httpx.AsyncClient, session: AsyncSession):
    """After an interruption the upload tells which segments it already holds."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(4 * SEG + 1))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    for i in (0, 1, 3):
        await h.put_segment(client, g.coordinator, upload_id, i, enc.segments[i])
    r = await client.get(f"/api/v1/library/uploads/{upload_id}", headers=g.coordinator.headers)
    assert r.json()["received"] == [[0, 2], [3, 4]]
    incomplete = await h.finalise(client, g.coordinator, upload_id, enc)
    f.assert_problem(incomplete, 409, "library.upload_incomplete")
    for i in (2, 4):
        await h.put_segment(client, g.coordinator, upload_id, i, enc.segments[i])
    assert (await h.finalise(client, g.coordinator, upload_id, enc)).status_code == 201


async def test_wrong_segment_order_fails_the_hash(client: httpx.AsyncClient, session: AsyncSession):
    """Swapped segments are refused at finalise and nothing becomes visible."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(3 * SEG + 7))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    order = [1, 0, 2, 3]
    for i, src in enumerate(order):
        await h.put_segment(client, g.coordinator, upload_id, i, enc.segments[src])
    f.assert_problem(
        await h.finalise(client, g.coordinator, upload_id, enc), 422, "library.hash_mismatch"
    )
    listing = await client.get(
        f"/api/v1/groups/{g.group_id}/library/documents", headers=g.member.headers
    )
    assert listing.json()["items"] == []


async def test_bad_segments_are_refused(client: httpx.AsyncClient, session: AsyncSession):
    """Oversized, short and out-of-range segments get clear 4xx codes and are not stored."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(SEG + 10))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    big = await h.put_segment(client, g.coordinator, upload_id, 0, enc.segments[0] + b"x")
    f.assert_problem(big, 413, "library.segment_too_large")
    short = await h.put_segment(client, g.coordinator, upload_id, 0, enc.segments[0][:-1])
    f.assert_problem(short, 422, "library.segment_size")
    far = await h.put_segment(client, g.coordinator, upload_id, 2, enc.segments[1])
    f.assert_problem(far, 422, "library.segment_out_of_range")
    r = await client.get(f"/api/v1/library/uploads/{upload_id}", headers=g.coordinator.headers)
    assert r.json()["received"] == []


async def test_tampered_content_is_detected_by_readers(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A flipped bit passes the server (it cannot tell) but fails STREAM decryption."""
    from cordon_client.exceptions import DecryptionError

    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(2 * SEG))
    h.sign_as(enc, g.coordinator, None)
    enc.segments[1] = enc.segments[1][:-1] + bytes([enc.segments[1][-1] ^ 1])
    await h.publish(client, g.coordinator, g.group_id, enc)
    r = await client.get(h.content_url(g.group_id, enc.document_id), headers=g.member.headers)
    assert r.status_code == 200, r.text  # served as stored: only the client can tell
    with pytest.raises(DecryptionError):
        decrypt_document(enc.key.key, enc.manifest, r.content)


@pytest.mark.parametrize("role", ["member", "observer"])
async def test_readers_cannot_publish(client: httpx.AsyncClient, session: AsyncSession, role: str):
    """Members and observers are refused with group.role_required."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"x")
    r = await h.open_upload(client, getattr(g, role), g.group_id, enc)
    f.assert_problem(r, 403, "group.role_required")


async def test_co_coordinators_publish_only_if_allowed(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A group that disallows it refuses co-coordinators, including an upload already open."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"x")
    upload_id = (await h.open_upload(client, g.co_coordinator, g.group_id, enc)).json()["id"]
    await session.execute(
        update(Group).where(Group.id == uuid.UUID(g.group_id)).values(co_coordinators_publish=False)
    )
    await session.commit()
    again = await h.open_upload(client, g.co_coordinator, g.group_id, h.encrypt(g.group_id, b"y"))
    f.assert_problem(again, 403, "group.role_required")
    put = await h.put_segment(client, g.co_coordinator, upload_id, 0, enc.segments[0])
    f.assert_problem(put, 403, "group.role_required")


async def test_uploads_belong_to_their_opener(client: httpx.AsyncClient, session: AsyncSession):
    """Another coordinator-level user cannot see, feed or finalise someone else's upload."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"x")
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    r = await h.put_segment(client, g.co_coordinator, upload_id, 0, enc.segments[0])
    f.assert_problem(r, 404, "library.upload_not_found")
    r = await client.get(f"/api/v1/library/uploads/{upload_id}", headers=g.member.headers)
    f.assert_problem(r, 404, "library.upload_not_found")


async def test_outsiders_and_removed_members_cannot_download(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A member of another group and a removed member get the 404 of a missing group."""
    g = await f.group_with_roles(client, session)
    other = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"secret")
    await h.publish(client, g.coordinator, g.group_id, enc)
    url = h.content_url(g.group_id, enc.document_id)
    f.assert_problem(await client.get(url, headers=other.member.headers), 404, "group.not_found")
    cross = h.content_url(other.group_id, enc.document_id)
    f.assert_problem(
        await client.get(cross, headers=other.member.headers), 404, "library.document_not_found"
    )
    assert (await client.get(url, headers=g.member.headers)).status_code == 200
    r = await client.delete(
        f"/api/v1/groups/{g.group_id}/members/{g.member.id}", headers=g.coordinator.headers
    )
    assert r.status_code in (200, 204), r.text
    f.assert_problem(await client.get(url, headers=g.member.headers), 404, "group.not_found")


async def test_withdrawn_documents_cannot_be_downloaded(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Withdrawal: 410 on download, still listed and flagged, no new versions."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"old news")
    await h.publish(client, g.coordinator, g.group_id, enc)
    base = f"/api/v1/groups/{g.group_id}/library/documents/{enc.document_id}"
    r = await client.post(f"{base}/withdraw", headers=g.member.headers)
    f.assert_problem(r, 403, "group.role_required")
    r = await client.post(f"{base}/withdraw", headers=g.coordinator.headers)
    assert r.status_code == 200 and r.json()["withdrawn"] is True
    gone = await client.get(h.content_url(g.group_id, enc.document_id), headers=g.member.headers)
    f.assert_problem(gone, 410, "library.withdrawn")
    v2 = h.encrypt(g.group_id, b"new", document_id=enc.document_id, version=2)
    f.assert_problem(
        await h.open_upload(client, g.coordinator, g.group_id, v2), 409, "library.withdrawn"
    )


async def test_version_numbers_must_follow(client: httpx.AsyncClient, session: AsyncSession):
    """Reusing a published version or skipping one is a conflict; v1 of an existing id too."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"a")
    await h.publish(client, g.coordinator, g.group_id, enc)
    for version in (1, 3):
        again = h.encrypt(g.group_id, b"b", document_id=enc.document_id, version=version)
        r = await h.open_upload(client, g.coordinator, g.group_id, again)
        f.assert_problem(r, 409, "library.version_conflict")
    orphan = h.encrypt(g.group_id, b"c", version=2)
    r = await h.open_upload(client, g.coordinator, g.group_id, orphan)
    f.assert_problem(r, 404, "library.document_not_found")


async def test_concurrent_uploads_of_one_version_publish_once(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Two uploads of version 2: the second finalise is a conflict and v2 stays the first."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"a")
    await h.publish(client, g.coordinator, g.group_id, enc)
    a = h.encrypt(g.group_id, b"from a", document_id=enc.document_id, version=2)
    b = h.encrypt(g.group_id, b"from b", document_id=enc.document_id, version=2)
    ids = []
    for x in (a, b):
        upload_id = (await h.open_upload(client, g.coordinator, g.group_id, x)).json()["id"]
        await h.put_segment(client, g.coordinator, upload_id, 0, x.segments[0])
        ids.append(upload_id)
    assert (await h.finalise(client, g.coordinator, ids[0], a)).status_code == 201
    f.assert_problem(
        await h.finalise(client, g.coordinator, ids[1], b), 409, "library.version_conflict"
    )
    r = await client.get(h.content_url(g.group_id, enc.document_id, 2), headers=g.member.headers)
    assert r.content == a.segments[0]


async def test_inconsistent_upload_shapes_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Declared size must fit segment size and count; a new document needs a category."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(SEG + 1))
    r = await h.open_upload(client, g.coordinator, g.group_id, enc, size=enc.size + SEG)
    f.assert_problem(r, 422, "library.invalid_upload")
    r = await h.open_upload(client, g.coordinator, g.group_id, enc, category=None)
    f.assert_problem(r, 422, "library.invalid_upload")
    r = await h.open_upload(client, g.coordinator, g.group_id, enc, manifest="not base64!")
    f.assert_problem(r, 422, "core.invalid_input")


async def test_archived_groups_accept_no_uploads(client: httpx.AsyncClient, session: AsyncSession):
    """An archived group is read-only: no new uploads, existing documents still readable."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"kept")
    await h.publish(client, g.coordinator, g.group_id, enc)
    await session.execute(
        update(Group).where(Group.id == uuid.UUID(g.group_id)).values(status="archived")
    )
    await session.commit()
    r = await h.open_upload(client, g.coordinator, g.group_id, h.encrypt(g.group_id, b"new"))
    f.assert_problem(r, 409, "group.read_only")
    ok = await client.get(h.content_url(g.group_id, enc.document_id), headers=g.member.headers)
    assert ok.status_code == 200


async def test_publishing_appends_a_library_item_to_the_group_stream(
    client: httpx.AsyncClient, session: AsyncSession
):
    """The stream item carries routing only: document id, version and category."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, b"news")
    await h.publish(client, g.coordinator, g.group_id, enc)
    items = list(
        await session.scalars(
            select(StreamItem).where(
                StreamItem.group_id == uuid.UUID(g.group_id), StreamItem.kind == "library"
            )
        )
    )
    assert len(items) == 1 and items[0].recipients is None
    assert b"report.pdf" not in items[0].envelope
    assert str(enc.document_id).encode() in items[0].envelope


async def test_expired_uploads_are_purged(
    client: httpx.AsyncClient, session: AsyncSession, blob_dir: Path
):
    """An abandoned upload disappears with its segments once a new upload is opened."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(SEG + 1))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    await h.put_segment(client, g.coordinator, upload_id, 0, enc.segments[0])
    assert (blob_dir / "uploads" / upload_id).is_dir()
    await session.execute(update(Upload).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    r = await client.get(f"/api/v1/library/uploads/{upload_id}", headers=g.coordinator.headers)
    f.assert_problem(r, 404, "library.upload_not_found")
    await h.open_upload(client, g.coordinator, g.group_id, h.encrypt(g.group_id, b"x"))
    assert not (blob_dir / "uploads" / upload_id).exists()
    session.expire_all()
    assert await session.get(Upload, uuid.UUID(upload_id)) is None


async def test_quota_and_size_limits(client: httpx.AsyncClient, session: AsyncSession, app: object):
    """Size limit and quota are checked when the upload opens; open uploads reserve space."""
    state = app.state  # type: ignore[attr-defined]
    original = state.settings
    state.settings = original.model_copy(
        update={"document_max_bytes": 2 * SEG, "library_quota_bytes": 3 * SEG}
    )
    try:
        g = await f.group_with_roles(client, session)
        too_big = h.encrypt(g.group_id, _data(2 * SEG + 1))
        r = await h.open_upload(client, g.coordinator, g.group_id, too_big)
        f.assert_problem(r, 413, "library.document_too_large")
        first = h.encrypt(g.group_id, _data(2 * SEG))
        assert (await h.open_upload(client, g.coordinator, g.group_id, first)).status_code == 201
        second = h.encrypt(g.group_id, _data(SEG))
        r = await h.open_upload(client, g.coordinator, g.group_id, second)
        f.assert_problem(r, 413, "library.quota_exceeded")
    finally:
        state.settings = original


async def test_oversized_json_is_still_limited(client: httpx.AsyncClient, session: AsyncSession):
    """Only segment PUTs are exempt from the global body limit, not the JSON routes."""
    g = await f.group_with_roles(client, session)
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/library/uploads",
        headers=g.coordinator.headers,
        content=b"{" + b" " * 2_000_000 + b"}",
    )
    f.assert_problem(r, 413, "core.too_large")


async def test_a_removed_publisher_cannot_feed_an_open_upload(
    client: httpx.AsyncClient, session: AsyncSession, blob_dir: Path
):
    """Removal takes effect on the very next segment PUT and finalise (no cached access), and
    nothing of the upload was ever visible as a blob."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(2 * SEG + 5))
    upload_id = (await h.open_upload(client, g.co_coordinator, g.group_id, enc)).json()["id"]
    for i in (0, 1):
        r = await h.put_segment(client, g.co_coordinator, upload_id, i, enc.segments[i])
        assert r.status_code == 201, r.text
    r = await client.delete(
        f"/api/v1/groups/{g.group_id}/members/{g.co_coordinator.id}", headers=g.coordinator.headers
    )
    assert r.status_code in (200, 204), r.text
    r = await h.put_segment(client, g.co_coordinator, upload_id, 2, enc.segments[2])
    f.assert_problem(r, 404, "library.upload_not_found")
    f.assert_problem(
        await h.finalise(client, g.co_coordinator, upload_id, enc), 404, "library.upload_not_found"
    )
    digest = hashlib.sha256(b"".join(enc.segments)).hexdigest()
    assert not list((blob_dir / "sha256").rglob(digest))


async def test_finalised_upload_refuses_late_segments(
    client: httpx.AsyncClient, session: AsyncSession, blob_dir: Path
):
    """Before finalise the blob is absent; after it, a re-PUT is refused and the blob intact."""
    g = await f.group_with_roles(client, session)
    enc = h.encrypt(g.group_id, _data(3 * SEG))
    upload_id = (await h.open_upload(client, g.coordinator, g.group_id, enc)).json()["id"]
    body = b"".join(enc.segments)
    r = await client.put(
        f"/api/v1/library/segments/{upload_id}/0",
        params={"count": len(enc.segments)},
        headers=g.coordinator.headers,
        content=body,
    )
    assert r.status_code == 201, r.text
    digest = hashlib.sha256(body).hexdigest()
    assert not list((blob_dir / "sha256").rglob(digest))
    assert (await h.finalise(client, g.coordinator, upload_id, enc)).status_code == 201
    late = await h.put_segment(client, g.coordinator, upload_id, 0, bytes(len(enc.segments[0])))
    f.assert_problem(late, 404, "library.upload_not_found")
    [blob] = list((blob_dir / "sha256").rglob(digest))
    assert blob.read_bytes() == body
