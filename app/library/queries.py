"""The read side of the library: listings, versions, withdrawal and byte ranges of content."""

import re
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import utcnow
from app.groups.service import GroupAccess
from app.library.exceptions import (
    DocumentGone,
    DocumentNotFound,
    RangeNotSatisfiable,
    VersionNotFound,
)
from app.library.models import Category, Document, DocumentVersion
from app.library.service import ensure_may_publish

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


async def get_all(
    session: AsyncSession,
    *,
    group_id: uuid.UUID,
    category: Category | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Document, DocumentVersion]]:
    """Documents, newest publication first, each with its latest version."""
    query = (
        select(Document, DocumentVersion)
        .join(
            DocumentVersion,
            and_(
                DocumentVersion.document_id == Document.id,
                DocumentVersion.version == Document.latest_version,
            ),
        )
        .where(Document.group_id == group_id)
        .order_by(Document.published_at.desc(), Document.id.desc())
        .limit(limit)
    )
    if category is not None:
        query = query.where(Document.category == category.value)
    if after is not None:
        at, doc_id = after
        query = query.where(
            or_(Document.published_at < at, and_(Document.published_at == at, Document.id < doc_id))
        )
    return [(d, v) for d, v in await session.execute(query)]


async def get(session: AsyncSession, *, group_id: uuid.UUID, document_id: uuid.UUID) -> Document:
    """A document of this group; one of another group is reported as absent."""
    document = await session.get(Document, document_id)
    if document is None or document.group_id != group_id:
        raise DocumentNotFound()
    return document


async def get_versions(session: AsyncSession, *, document: Document) -> list[DocumentVersion]:
    """Every version, oldest first; superseded versions stay readable."""
    rows = await session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.version)
    )
    return list(rows)


async def get_version(
    session: AsyncSession, *, document: Document, version: int
) -> DocumentVersion:
    """One version of a document."""
    row = await session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.version == version
        )
    )
    if row is None:
        raise VersionNotFound()
    return row


async def get_downloadable(
    session: AsyncSession, *, document: Document, version: int
) -> DocumentVersion:
    """A version whose content may be served: withdrawn documents answer 410."""
    if document.withdrawn_at is not None:
        raise DocumentGone("The document was withdrawn by its publisher.")
    return await get_version(session, document=document, version=version)


async def withdraw(session: AsyncSession, *, access: GroupAccess, document: Document) -> Document:
    """Withdraw every version from download; idempotent, and the blobs are kept."""
    ensure_may_publish(access)
    if document.withdrawn_at is None:
        document.withdrawn_at = utcnow()
        await session.commit()
    return document


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Parse a single `Range: bytes=a-b` into half-open [start, end); None means the whole."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        raise RangeNotSatisfiable("Only one byte range (bytes=a-b) is supported.")
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size
    else:
        start = int(first)
        end = min(int(last) + 1, size) if last else size
    if start >= end:
        raise RangeNotSatisfiable(f"The content is {size} bytes.", size=size)
    return start, end
