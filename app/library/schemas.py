"""Library request and response bodies. Binary fields are unpadded base64url (PROTOCOL.md §2)."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, computed_field

from app.core.encoding import b64url, b64url_strict
from app.core.schemas import BoundedBigInt, BoundedInt, InputModel, ReadModel
from app.library.models import Category

MIN_SEGMENT = 64 * 1024
MAX_SEGMENT = 1024 * 1024
MAX_MANIFEST = 4096


def _manifest(text: object) -> bytes:
    raw = b64url_strict(text, what="manifest")
    if not 0 < len(raw) <= MAX_MANIFEST:
        raise ValueError(f"manifest must be 1..{MAX_MANIFEST} bytes")
    return raw


def _digest(text: object) -> bytes:
    return b64url_strict(text, length=32, what="a SHA-256 digest")


ManifestBytes = Annotated[bytes, BeforeValidator(_manifest)]
Digest = Annotated[bytes, BeforeValidator(_digest)]
B64Bytes = Annotated[bytes, PlainSerializer(b64url, return_type=str)]
HexAsB64 = Annotated[str, PlainSerializer(lambda h: b64url(bytes.fromhex(h)), return_type=str)]


class UploadCreate(InputModel):
    """Open an upload of one document version: its shape is declared before any byte is sent.

    `size` is the total ciphertext length; with `segment_size` (plaintext bytes per segment, as
    in the manifest) and `segment_count` it fixes the exact length of every segment.
    """

    document_id: uuid.UUID
    version: Annotated[BoundedInt, Field(ge=1, le=1_000_000)]
    category: Category | None = None
    segment_size: Annotated[BoundedInt, Field(ge=MIN_SEGMENT, le=MAX_SEGMENT)]
    segment_count: Annotated[BoundedInt, Field(ge=1)]
    size: Annotated[BoundedBigInt, Field(ge=16)]
    manifest: ManifestBytes


class UploadRead(ReadModel):
    """An open upload; `received` lists half-open index ranges already stored, for resuming."""

    id: uuid.UUID
    group_id: uuid.UUID
    document_id: uuid.UUID
    version: int
    category: Category
    segment_size: int
    segment_count: int
    size: int
    expires_at: datetime
    received: list[tuple[int, int]] = Field(default_factory=list)


class SegmentRead(ReadModel):
    """Result of a segment PUT; `stored` is false when every segment was an identical retry."""

    index: int
    stored: bool
    count: int = 1


class UploadFinalise(InputModel):
    """Close an upload: the count and the SHA-256 of the whole ciphertext must match."""

    segment_count: Annotated[BoundedInt, Field(ge=1)]
    sha256: Digest


class VersionRead(ReadModel):
    """A published version: everything a reader needs to fetch and verify it."""

    document_id: uuid.UUID
    version: int
    size: int
    segment_size: int
    segment_count: int
    sha256: HexAsB64 = Field(validation_alias="blob_sha256")
    manifest: B64Bytes
    publisher_device_id: uuid.UUID | None
    published_at: datetime


class DocumentRead(ReadModel):
    """A library entry; `published_at` is the date of its latest version."""

    id: uuid.UUID
    group_id: uuid.UUID
    category: Category
    latest_version: int
    created_at: datetime
    published_at: datetime
    withdrawn_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def withdrawn(self) -> bool:
        """Withdrawn documents stay listed but cannot be downloaded."""
        return self.withdrawn_at is not None


class DocumentWithLatest(DocumentRead):
    """A library entry with its latest version inline, so a listing needs no second request."""

    latest: VersionRead | None = None
