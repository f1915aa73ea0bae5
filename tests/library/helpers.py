"""Client-side steps done by hand over the async test client, so each HTTP step is visible."""

import hashlib
import time
import uuid
from dataclasses import dataclass

import httpx
from cordon_client.crypto import (
    LogWriter,
    Manifest,
    Roster,
    StreamEncryptor,
    create_manifest,
    new_document_key,
    public_bytes,
    signing_key_from_seed,
    verify_log,
)
from cordon_client.crypto.history import DocumentKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.factories import Actor, b64

T0 = 1_700_000_000_000


def coordinator_roster(group_id: str, coordinator: Actor, *readers: Actor) -> Roster:
    """A verified log in which `coordinator`'s device belongs to a coordinator and each
    reader's device to a member. Deterministic per group and actors (seeded keys, fixed
    times), so every call yields the same heads."""
    members = [(who.user.id, uuid.UUID(who.device_id), who.signing_key) for who in readers]
    assert coordinator.signing_key is not None
    coord = (coordinator.user.id, uuid.UUID(coordinator.device_id), coordinator.signing_key)
    return roster_of(group_id, coord, *members)  # type: ignore[arg-type]


def roster_of(
    group_id: str,
    coordinator: tuple[uuid.UUID, uuid.UUID, Ed25519PrivateKey],
    *members: tuple[uuid.UUID, uuid.UUID, Ed25519PrivateKey],
) -> Roster:
    """A verified log: (member id, device id, device key) of one coordinator and members."""
    gid = uuid.UUID(group_id)

    def seeded(*parts: str) -> Ed25519PrivateKey:
        return signing_key_from_seed(hashlib.sha256("/".join(parts).encode()).digest())

    root = seeded("root", group_id)
    writer = LogWriter(gid)
    writer.genesis(root, T0)
    for role, (member_id, device_id, device_key) in [
        ("coordinator", coordinator),
        *(("member", m) for m in members),
    ]:
        member_key = seeded("member", group_id, str(member_id))
        writer.add_member(root, member_id, public_bytes(member_key), role, T0)
        writer.add_device(member_key, member_id, device_id, public_bytes(device_key), T0)
    return verify_log(public_bytes(root), gid, writer.entries)


@dataclass
class Encrypted:
    """One encrypted document version, split into its STREAM segments."""

    document_id: uuid.UUID
    version: int
    key: DocumentKey
    manifest: Manifest
    signing_key: Ed25519PrivateKey
    segments: list[bytes]
    data: bytes = b""
    category: str = "newsletter"

    @property
    def size(self) -> int:
        return sum(len(s) for s in self.segments)

    @property
    def sha256(self) -> str:
        return b64(hashlib.sha256(b"".join(self.segments)).digest())


def encrypt(
    group_id: str,
    data: bytes,
    *,
    document_id: uuid.UUID | None = None,
    version: int = 1,
    segment_size: int = 64 * 1024,
    device_id: str | None = None,
    signing: Ed25519PrivateKey | None = None,
    category: str = "newsletter",
    doc_key: bytes | None = None,
    epoch_id: bytes | None = None,
) -> Encrypted:
    """Encrypt as an uploader would: fresh key, signed manifest, STREAM segments."""
    signing = signing or Ed25519PrivateKey.generate()
    doc_id = document_id or uuid.uuid4()
    doc_key = doc_key or new_document_key()
    manifest = create_manifest(
        doc_key=doc_key,
        signing_key=signing,
        group_id=uuid.UUID(group_id),
        document_id=doc_id,
        version=version,
        uploader_device_id=uuid.UUID(device_id) if device_id else uuid.uuid4(),
        ts=int(time.time() * 1000),
        name="report.pdf",
        media_type="application/pdf",
        category=category,
        segment_size=segment_size,
        **({"epoch_id": epoch_id} if epoch_id else {}),
    )
    enc = StreamEncryptor(doc_key, manifest)
    segments = []
    for i in range(0, len(data), segment_size):
        out = enc.update(data[i : i + segment_size])
        if out:
            segments.append(out)
    segments.append(enc.finalize())
    key = DocumentKey(doc_id, version, doc_key, manifest.manifest_hash())
    return Encrypted(doc_id, version, key, manifest, signing, segments, data, category)


def sign_as(enc: Encrypted, who: Actor, category: str | None) -> None:
    """Re-encrypt `enc` in place under a manifest signed by `who`'s device, as a real uploader
    would (the server checks that signature); same document, version, key and data."""
    if who.signing_key is None:
        return
    wanted = category or enc.category
    if enc.manifest.uploader_device_id == uuid.UUID(who.device_id) and wanted == enc.category:
        return
    again = encrypt(
        str(enc.manifest.group_id),
        enc.data,
        document_id=enc.document_id,
        version=enc.version,
        segment_size=enc.manifest.segment_size,
        device_id=who.device_id,
        signing=who.signing_key,
        category=wanted,
        doc_key=enc.key.key,
    )
    for name in ("key", "manifest", "signing_key", "segments", "category"):
        setattr(enc, name, getattr(again, name))


def upload_body(enc: Encrypted, category: str | None = "newsletter", **overrides: object) -> dict:
    body: dict[str, object] = {
        "document_id": str(enc.document_id),
        "version": enc.version,
        "category": category,
        "segment_size": enc.manifest.segment_size,
        "segment_count": len(enc.segments),
        "size": enc.size,
        "manifest": b64(enc.manifest.to_bytes()),
    }
    body.update(overrides)
    return body


async def open_upload(
    client: httpx.AsyncClient, who: Actor, group_id: str, enc: Encrypted, **overrides: object
) -> httpx.Response:
    category = overrides.get("category", "newsletter")
    if "manifest" not in overrides and str(enc.manifest.group_id) == group_id:
        sign_as(enc, who, category if isinstance(category, str) else None)
    return await client.post(
        f"/api/v1/groups/{group_id}/library/uploads",
        headers=who.headers,
        json=upload_body(enc, **overrides),
    )


async def put_segment(
    client: httpx.AsyncClient, who: Actor, upload_id: str, index: int, data: bytes
) -> httpx.Response:
    return await client.put(
        f"/api/v1/library/segments/{upload_id}/{index}", headers=who.headers, content=data
    )


async def finalise(
    client: httpx.AsyncClient, who: Actor, upload_id: str, enc: Encrypted, **overrides: object
) -> httpx.Response:
    body: dict[str, object] = {"segment_count": len(enc.segments), "sha256": enc.sha256}
    body.update(overrides)
    return await client.post(
        f"/api/v1/library/uploads/{upload_id}/finalise", headers=who.headers, json=body
    )


async def publish(
    client: httpx.AsyncClient, who: Actor, group_id: str, enc: Encrypted, **overrides: object
) -> dict:
    """Open, send every segment, finalise; returns the published version."""
    r = await open_upload(client, who, group_id, enc, **overrides)
    assert r.status_code == 201, r.text
    upload_id = r.json()["id"]
    for i, seg in enumerate(enc.segments):
        s = await put_segment(client, who, upload_id, i, seg)
        assert s.status_code == 201, s.text
    r = await finalise(client, who, upload_id, enc)
    assert r.status_code == 201, r.text
    return dict(r.json())


def content_url(group_id: str, document_id: uuid.UUID | str, version: int = 1) -> str:
    return f"/api/v1/groups/{group_id}/library/documents/{document_id}/versions/{version}/content"
