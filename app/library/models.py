"""Documents, their versions and the upload sessions that create versions.

The server holds only routing metadata: category, sizes, counts, dates, the publishing device,
the withdrawn flag, and the signed manifest as opaque bytes. Titles, file names and content are
inside the manifest's encrypted metadata and the ciphertext blob.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.core.types import CreatedAt, PrimaryKey, UTCDateTime

TAG_BYTES = 16  # AES-GCM tag appended to every STREAM segment


class Category(StrEnum):
    """What kind of material a document is; visible to the server for filtering."""

    NEWSLETTER = "newsletter"
    DAILY_REPORT = "daily_report"
    ANALYSIS_REPORT = "analysis_report"
    RIGHT_HOLDER_MATERIAL = "right_holder_material"
    BEST_PRACTICE = "best_practice"
    TRAINING = "training"
    OTHER = "other"


class Document(Base):
    """A library entry; exists only once its first version is published."""

    __tablename__ = "library_document"

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), index=True, nullable=False
    )
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    latest_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[CreatedAt]
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentVersion(Base):
    """One immutable version: a content-addressed ciphertext blob plus its signed manifest."""

    __tablename__ = "library_document_version"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[PrimaryKey]
    document_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("library_document.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    blob_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    segment_size: Mapped[int] = mapped_column(Integer, nullable=False)
    segment_count: Mapped[int] = mapped_column(Integer, nullable=False)
    manifest: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    publisher_device_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="SET NULL")
    )
    published_at: Mapped[CreatedAt]


class Upload(Base):
    """An open, resumable upload of one document version; its segments live in the blob store."""

    __tablename__ = "library_upload"

    id: Mapped[PrimaryKey]
    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cordon_group.id", ondelete="CASCADE"), index=True, nullable=False
    )
    document_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    segment_size: Mapped[int] = mapped_column(Integer, nullable=False)
    segment_count: Mapped[int] = mapped_column(Integer, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    manifest: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False
    )
    device_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("device.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True, nullable=False)

    def segment_length(self, index: int) -> int:
        """Exact ciphertext length of segment `index` (every one but the last is full)."""
        full = self.segment_size + TAG_BYTES
        if index < self.segment_count - 1:
            return full
        return self.size - full * (self.segment_count - 1)


class BlobUpload(Base):
    """An open upload in the PostgreSQL blob store: its segments may be written while this row
    exists (writers share its row lock, staging takes it exclusively)."""

    __tablename__ = "blob_upload"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class BlobSegment(Base):
    """One stored ciphertext segment, owned by its upload and, once published, by its blob."""

    __tablename__ = "blob_segment"

    owner: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    start: Mapped[int] = mapped_column(BigInteger, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class Blob(Base):
    """A published blob in the PostgreSQL store: its digest, size and the segments' owner."""

    __tablename__ = "blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    owner: Mapped[uuid.UUID] = mapped_column(Uuid, index=True, nullable=False)
