"""The server's check of an uploaded manifest, through the SDK's one implementation of the
format (`cordon_client.crypto.stream`, pure): a version is published only with a manifest
the uploading device signed for exactly this group, document, version and category, so the
category the server routes on is the one readers verify (PROTOCOL.md §8)."""

import uuid

from cordon_client.crypto.stream import Manifest, verify_manifest
from cordon_client.exceptions import CryptoError

from app.library.exceptions import CategoryMismatch, InvalidManifest


def check(
    raw: bytes,
    *,
    group_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    category: str,
    device_id: uuid.UUID,
    device_signing_key: bytes,
) -> Manifest:
    """Parse and verify; the first disagreement is named in the problem's detail."""
    try:
        manifest = Manifest.from_bytes(raw)
    except CryptoError as exc:
        raise InvalidManifest(f"manifest: {exc.reason}") from None
    bound = {
        "group_id": (manifest.group_id, group_id),
        "document_id": (manifest.document_id, document_id),
        "version": (manifest.version, version),
        "uploader_device_id": (manifest.uploader_device_id, device_id),
    }
    for name, (signed, expected) in bound.items():
        if signed != expected:
            raise InvalidManifest(f"manifest: {name} is {signed}, the upload is for {expected}")
    try:
        verify_manifest(manifest, device_signing_key)
    except CryptoError:
        raise InvalidManifest("manifest: the signature is not the uploading device's") from None
    if manifest.category != category:
        raise CategoryMismatch(
            f"The manifest signs category {manifest.category!r}, the document is {category!r}."
        )
    return manifest
