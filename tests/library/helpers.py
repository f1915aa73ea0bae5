"""Client-side steps done by hand over the async test client, so each HTTP step is visible."""

import hashlib
import time
import uuid
from dataclasses import dataclass

import httpx
from cordon_client._crypto import Manifest, StreamEncryptor, create_manifest, new_document_key
from cordon_client._crypto.history import DocumentKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.factories import Actor, b64


@dataclass
class Encrypted:
    """One encrypted document version, split into its STREAM segments."""

    document_id: uuid.UUID
    version: int
    key: DocumentKey
    manifest: Manifest
    signing_key: Ed25519PrivateKey
    segments: list[bytes]

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
) -> Encrypted:
    """Encrypt as an uploader would: fresh key, signed manifest, STREAM segments."""
    signing = Ed25519PrivateKey.generate()
    doc_id = document_id or uuid.uuid4()
    doc_key = new_document_key()
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
        segment_size=segment_size,
    )
    enc = StreamEncryptor(doc_key, manifest)
    segments = []
    for i in range(0, len(data), segment_size):
        out = enc.update(data[i : i + segment_size])
        if out:
            segments.append(out)
    segments.append(enc.finalize())
    key = DocumentKey(doc_id, version, doc_key, manifest.manifest_hash())
    return Encrypted(doc_id, version, key, manifest, signing, segments)


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
