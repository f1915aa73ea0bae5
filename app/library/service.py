"""Library logic: resumable uploads, publishing versions, reading and withdrawing documents.

Publishing order (synapse's write → notify): segments are written into the upload's hidden data
file and hashed as they arrive; `finalise` fsyncs that file, checks the uploader's hash, makes
the blob visible (one rename), then inserts the version and the group-stream item in one
transaction and commits. Only that commit makes the version visible and pushes the `library`
item, so a pushed item is always downloadable and a failed publish leaves no visible trace.
"""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.types import utcnow
from app.devices.models import Device
from app.groups import service as groups_service
from app.groups.exceptions import GroupRoleRequired
from app.groups.models import Group, GroupRole, Membership
from app.groups.service import GroupAccess
from app.groups.status import GroupWrite
from app.library import manifest as manifests
from app.library.exceptions import (
    DocumentNotFound,
    DocumentTooLarge,
    DocumentWithdrawn,
    HashMismatch,
    InvalidUpload,
    QuotaExceeded,
    SegmentConflict,
    SegmentOutOfRange,
    SegmentSizeMismatch,
    SegmentTooLarge,
    UploadIncomplete,
    UploadNotFound,
    VersionConflict,
)
from app.library.models import TAG_BYTES, Category, Document, DocumentVersion, Upload
from app.library.schemas import UploadCreate, UploadFinalise
from app.library.storage import BlobStore, Buffer, SegmentOutcome
from app.messages import service as messages_service
from app.messages.models import MessageKind
from app.users.models import User

PURGE_BATCH = 50


def ensure_may_publish(access: GroupAccess) -> None:
    """Coordinators publish; co-coordinators only where the group allows; only a group that
    takes content (`app.groups.status`: not closed or archived)."""
    if access.role == GroupRole.CO_COORDINATOR and not access.group.co_coordinators_publish:
        raise GroupRoleRequired("Co-coordinators may not publish in this group.")
    if access.role not in (GroupRole.COORDINATOR, GroupRole.CO_COORDINATOR):
        raise GroupRoleRequired("Only coordinators publish to the library.")
    groups_service.ensure_writable(access.group, GroupWrite.CONTENT)


def _check_shape(upload_in: UploadCreate, *, max_bytes: int) -> None:
    """The declared size must fit the segment layout, and its plaintext the size limit."""
    full = upload_in.segment_size + TAG_BYTES
    low = full * (upload_in.segment_count - 1) + TAG_BYTES
    if not low <= upload_in.size <= full * upload_in.segment_count:
        raise InvalidUpload("size does not match segment_size and segment_count.")
    if upload_in.size - TAG_BYTES * upload_in.segment_count > max_bytes:
        raise DocumentTooLarge(f"Documents are limited to {max_bytes} bytes.")


async def _used_bytes(session: AsyncSession, *, group_id: uuid.UUID, now: datetime) -> int:
    """Published ciphertext plus the space reserved by open uploads."""
    published = await session.scalar(
        select(func.coalesce(func.sum(DocumentVersion.size), 0))
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.group_id == group_id)
    )
    reserved = await session.scalar(
        select(func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.group_id == group_id, Upload.expires_at > now
        )
    )
    return int(published or 0) + int(reserved or 0)


async def _check_version(
    session: AsyncSession, *, group: Group, upload_in: UploadCreate
) -> Category:
    """Version 1 needs a fresh id and a category; later versions follow the latest one."""
    document = await session.get(Document, upload_in.document_id)
    if document is None:
        if upload_in.version != 1:
            raise DocumentNotFound()
        if upload_in.category is None:
            raise InvalidUpload("category is required for a new document.")
        return upload_in.category
    if document.group_id != group.id:
        raise VersionConflict("That document id is taken.")
    if document.withdrawn_at is not None:
        raise DocumentWithdrawn()
    if upload_in.version != document.latest_version + 1:
        raise VersionConflict(f"The next version is {document.latest_version + 1}.")
    return Category(document.category)


async def create_upload(
    session: AsyncSession,
    *,
    access: GroupAccess,
    store: BlobStore,
    device: Device,
    upload_in: UploadCreate,
    settings: Settings,
) -> Upload:
    """Open a resumable upload after checking role, shape, the signed manifest (it must name
    this group, document, version, category and device), size limit, version and quota
    (abandoned uploads are purged first, so their reserved space comes back)."""
    ensure_may_publish(access)
    await purge_expired(session, store=store, now=utcnow())
    _check_shape(upload_in, max_bytes=settings.document_max_bytes)
    category = await _check_version(session, group=access.group, upload_in=upload_in)
    manifests.check(
        upload_in.manifest,
        group_id=access.group.id,
        document_id=upload_in.document_id,
        version=upload_in.version,
        category=category.value,
        device_id=device.id,
        device_signing_key=device.signing_key,
    )
    now = utcnow()
    used = await _used_bytes(session, group_id=access.group.id, now=now)
    if used + upload_in.size > settings.library_quota_bytes:
        raise QuotaExceeded(f"The library quota is {settings.library_quota_bytes} bytes.")
    upload = Upload(
        group_id=access.group.id,
        document_id=upload_in.document_id,
        version=upload_in.version,
        category=category.value,
        segment_size=upload_in.segment_size,
        segment_count=upload_in.segment_count,
        size=upload_in.size,
        manifest=upload_in.manifest,
        user_id=access.user.id,
        device_id=device.id,
        created_at=now,
        expires_at=now + timedelta(hours=settings.upload_ttl_hours),
    )
    session.add(upload)
    await session.commit()
    await store.open_upload(upload.id)
    return upload


async def get_upload(
    session: AsyncSession, *, upload_id: uuid.UUID, user: User
) -> tuple[Upload, GroupAccess] | None:
    """An unexpired upload opened by this user, with their live membership of its group, read
    in one query (segment PUTs run this per request); anyone else's upload, or one whose opener
    has left the group, is indistinguishable from none."""
    row = (
        await session.execute(
            select(Upload, Group, Membership)
            .join(Group, Group.id == Upload.group_id)
            .join(
                Membership,
                (Membership.group_id == Upload.group_id) & (Membership.user_id == Upload.user_id),
            )
            .where(
                Upload.id == upload_id,
                Upload.user_id == user.id,
                Upload.expires_at > utcnow(),
                Membership.removed_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    upload, group, membership = row
    return upload, GroupAccess(group=group, membership=membership, user=user)


def _ranges(indices: list[int]) -> list[tuple[int, int]]:
    """Collapse sorted indices into half-open ranges, so a 2 GiB upload's status stays small."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


async def received(*, store: BlobStore, upload: Upload) -> list[tuple[int, int]]:
    """Which segments are stored, as half-open ranges."""
    return _ranges(sorted((await store.segment_sizes(upload.id)).keys()))


async def _has_more(stream: AsyncIterator[bytes]) -> bool:
    """True if the body carries any byte beyond what was read."""
    async for chunk in stream:
        if chunk:
            return True
    return False


async def put_segment(
    *,
    store: BlobStore,
    upload: Upload,
    index: int,
    chunks: AsyncIterator[bytes],
    count: int = 1,
) -> bool:
    """Store `count` consecutive segments sent back to back in one body, starting at `index`;
    True if any was new, False if all were identical retries.

    Each segment is cut from the stream at its exact length and stored on its own (so retries
    stay idempotent per segment); memory is one segment (≤ 1 MiB + tag) per request, kept as
    the body's own chunks (no copy before the write). A body that is short or long is refused;
    segments before a refused one stay stored, as a retry would store them anyway.
    """
    if not 0 <= index or index + count > upload.segment_count:
        raise SegmentOutOfRange(f"Segments are numbered 0..{upload.segment_count - 1}.")
    stream = aiter(chunks)
    carry: list[Buffer] = []  # what the last body chunk held past the previous segment
    stored_any = False
    for current in range(index, index + count):
        expected = upload.segment_length(current)
        parts, carry = carry, []
        have = sum(len(p) for p in parts)
        while have < expected:
            chunk: bytes | None = await anext(stream, None)
            if chunk is None:
                raise SegmentSizeMismatch(
                    f"Segment {current} must be {expected} bytes, got {have}."
                )
            parts.append(chunk)
            have += len(chunk)
        if have > expected:  # split the last chunk without copying it
            last = memoryview(parts[-1])
            cut = len(last) - (have - expected)
            parts[-1], carry = last[:cut], [last[cut:]]
        if current == index + count - 1 and (carry or await _has_more(stream)):
            raise SegmentTooLarge(f"The body runs past segment {current} ({expected} bytes).")
        offset = current * (upload.segment_size + TAG_BYTES)
        outcome = await store.put_segment(upload.id, current, offset, parts)
        if outcome is SegmentOutcome.GONE:
            raise UploadNotFound()
        if outcome is SegmentOutcome.CONFLICT:
            raise SegmentConflict(f"Segment {current} was already stored with different bytes.")
        stored_any = stored_any or outcome is SegmentOutcome.STORED
    return stored_any


async def _insert_version(
    session: AsyncSession, *, upload: Upload, sha256_hex: str, now: datetime
) -> DocumentVersion:
    """Add the version (and the document, for version 1) and the stream item; no commit."""
    document = await session.get(Document, upload.document_id, with_for_update=True)
    if document is None and upload.version == 1:
        document = Document(
            id=upload.document_id,
            group_id=upload.group_id,
            category=upload.category,
            latest_version=1,
            created_at=now,
            published_at=now,
        )
        session.add(document)
    elif document is None or document.latest_version + 1 != upload.version:
        raise VersionConflict("Another upload published this version first.")
    elif document.withdrawn_at is not None:
        raise DocumentWithdrawn()
    else:
        document.latest_version = upload.version
        document.published_at = now
    version = DocumentVersion(
        document_id=upload.document_id,
        version=upload.version,
        blob_sha256=sha256_hex,
        size=upload.size,
        segment_size=upload.segment_size,
        segment_count=upload.segment_count,
        manifest=upload.manifest,
        publisher_device_id=upload.device_id,
        published_at=now,
    )
    session.add(version)
    payload = {
        "type": "library.published",
        "document_id": str(upload.document_id),
        "version": upload.version,
        "category": upload.category,
    }
    await messages_service.append(
        session,
        group_id=upload.group_id,
        kind=MessageKind.LIBRARY,
        envelope=json.dumps(payload, separators=(",", ":")).encode(),
        sender_user_id=upload.user_id,
        sender_device_id=upload.device_id,
    )
    await session.delete(upload)
    await session.flush()
    return version


async def finalise(
    session: AsyncSession,
    *,
    access: GroupAccess,
    store: BlobStore,
    upload: Upload,
    finalise_in: UploadFinalise,
) -> DocumentVersion:
    """Assemble, verify and publish the version; on any failure nothing becomes visible."""
    ensure_may_publish(access)
    if finalise_in.segment_count != upload.segment_count:
        raise UploadIncomplete(f"The upload was opened for {upload.segment_count} segments.")
    sizes = await store.segment_sizes(upload.id)
    missing = [i for i in range(upload.segment_count) if sizes.get(i) != upload.segment_length(i)]
    if missing:
        raise UploadIncomplete(f"{len(missing)} segments are missing, first {missing[0]}.")
    staged = await store.stage(upload.id)
    if staged is None:  # a concurrent finalise or abort got there first
        raise UploadNotFound()
    try:
        if staged.size != upload.size or bytes.fromhex(staged.sha256_hex) != finalise_in.sha256:
            raise HashMismatch("The stored segments do not hash to the given sha256.")
        await store.publish(staged)
        version = await _insert_version(
            session, upload=upload, sha256_hex=staged.sha256_hex, now=utcnow()
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise VersionConflict("Another upload published this version first.") from None
    finally:
        await store.discard(staged)
    await store.drop_upload(upload.id)
    return version


async def abort(session: AsyncSession, *, store: BlobStore, upload: Upload) -> None:
    """Drop an upload and its segments; nothing published is touched."""
    await session.delete(upload)
    await session.commit()
    await store.drop_upload(upload.id)


async def purge_expired(session: AsyncSession, *, store: BlobStore, now: datetime) -> int:
    """Delete a batch of abandoned uploads and their segments; returns how many went."""
    expired = list(
        await session.scalars(select(Upload).where(Upload.expires_at <= now).limit(PURGE_BATCH))
    )
    for upload in expired:
        await session.delete(upload)
    await session.commit()
    for upload in expired:
        await store.drop_upload(upload.id)
    return len(expired)
