"""Library routes. `group_router` is group-scoped; `upload_router` serves open uploads, and its
segment PUTs sit under their own prefix so the JSON body limit can exempt exactly them."""

import logging
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from starlette.responses import StreamingResponse

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep, SettingsDep
from app.core.encoding import json_bytes
from app.core.pagination import Page, PageDep
from app.core.routing import CordonRoute
from app.core.schemas import BoundedInt, Seq
from app.groups.dependencies import GroupReader
from app.library import history, queries, service
from app.library.dependencies import BlobStoreDep, LibraryPublisher, OwnUpload
from app.library.exceptions import BlobUnavailable
from app.library.models import Category, Document, DocumentVersion, Upload
from app.library.schemas import (
    DocumentRead,
    DocumentWithLatest,
    SegmentRead,
    UploadCreate,
    UploadFinalise,
    UploadRead,
    VersionRead,
)
from app.messages.schemas import MessageRead

logger = logging.getLogger("cordon.library")
SEGMENTS_PREFIX = "/api/v1/library/segments/"
MAX_SEGMENTS_PER_PUT = 16

group_router = APIRouter(route_class=CordonRoute)
upload_router = APIRouter(route_class=CordonRoute)

DocumentId = Annotated[uuid.UUID, Path()]
VersionNo = Annotated[BoundedInt, Path(ge=1)]


def _document(document: Document, latest: DocumentVersion | None = None) -> DocumentWithLatest:
    read = DocumentWithLatest.model_validate(document)
    read.latest = VersionRead.model_validate(latest) if latest is not None else None
    return read


async def _upload_read(store: BlobStoreDep, upload: Upload) -> UploadRead:
    read = UploadRead.model_validate(upload)
    read.received = await service.received(store=store, upload=upload)
    return read


@group_router.post(
    "/{group_id}/library/uploads", status_code=status.HTTP_201_CREATED, response_model=UploadRead
)
async def create_upload(
    upload_in: UploadCreate,
    access: LibraryPublisher,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    store: BlobStoreDep,
) -> UploadRead:
    """Open a resumable upload of one document version (publishers only)."""
    upload = await service.create_upload(
        session,
        access=access,
        store=store,
        device=principal.device,
        upload_in=upload_in,
        settings=settings,
    )
    return UploadRead.model_validate(upload)


@group_router.get("/{group_id}/library/documents", response_model=Page[DocumentWithLatest])
async def list_documents(
    access: GroupReader,
    session: SessionDep,
    page: PageDep,
    category: Category | None = None,
) -> Page[DocumentWithLatest]:
    """The group's library, newest publication first, optionally one category."""
    scope = f"library:{access.group.id}:{category or ''}"
    position = page.position(scope)
    after = (datetime.fromisoformat(position[0]), uuid.UUID(position[1])) if position else None
    rows = await queries.get_all(
        session, group_id=access.group.id, category=category, after=after, limit=page.limit
    )
    last = [rows[-1][0].published_at.isoformat(), str(rows[-1][0].id)] if rows else None
    return Page(
        items=[_document(d, v) for d, v in rows],
        next_cursor=page.next_cursor(scope, rows, last),
    )


@group_router.get("/{group_id}/library/documents/{document_id}", response_model=DocumentWithLatest)
async def get_document(
    document_id: DocumentId, access: GroupReader, session: SessionDep
) -> DocumentWithLatest:
    """One document with its latest version."""
    document = await queries.get(session, group_id=access.group.id, document_id=document_id)
    latest = await queries.get_version(session, document=document, version=document.latest_version)
    return _document(document, latest)


@group_router.get(
    "/{group_id}/library/documents/{document_id}/versions", response_model=list[VersionRead]
)
async def list_versions(
    document_id: DocumentId, access: GroupReader, session: SessionDep
) -> list[VersionRead]:
    """Every version of a document, oldest first."""
    document = await queries.get(session, group_id=access.group.id, document_id=document_id)
    versions = await queries.get_versions(session, document=document)
    return [VersionRead.model_validate(v) for v in versions]


@group_router.get(
    "/{group_id}/library/documents/{document_id}/versions/{version}", response_model=VersionRead
)
async def get_version(
    document_id: DocumentId, version: VersionNo, access: GroupReader, session: SessionDep
) -> VersionRead:
    """One version's manifest, sizes and hash."""
    document = await queries.get(session, group_id=access.group.id, document_id=document_id)
    row = await queries.get_version(session, document=document, version=version)
    return VersionRead.model_validate(row)


@group_router.get(
    "/{group_id}/library/documents/{document_id}/versions/{version}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {}},
)
async def download(
    document_id: DocumentId,
    version: VersionNo,
    access: GroupReader,
    session: SessionDep,
    store: BlobStoreDep,
    range_: Annotated[str | None, Header(alias="range")] = None,
) -> StreamingResponse:
    """Stream the ciphertext, whole or one byte range (clients resume and verify per segment)."""
    document = await queries.get(session, group_id=access.group.id, document_id=document_id)
    row = await queries.get_downloadable(session, document=document, version=version)
    span = queries.byte_range(range_, row.size)
    start, end = span or (0, row.size)
    if await store.size(row.blob_sha256) != row.size:
        logger.error("blob %s of a published version is not in the blob store", row.blob_sha256)
        raise BlobUnavailable(
            "This server cannot find the document's content; its blob store is not shared "
            "with the server that published it (see CORDON_BLOB_DIR)."
        )
    headers = {
        "Content-Length": str(end - start),
        "Accept-Ranges": "bytes",
        "ETag": f'"{row.blob_sha256}"',
        "Cache-Control": "private, no-store",
    }
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.size}"
    return StreamingResponse(
        store.read(row.blob_sha256, start, end),
        status_code=206 if span is not None else 200,
        media_type="application/octet-stream",
        headers=headers,
    )


@group_router.post(
    "/{group_id}/library/documents/{document_id}/withdraw", response_model=DocumentRead
)
async def withdraw(
    document_id: DocumentId, access: LibraryPublisher, session: SessionDep
) -> DocumentWithLatest:
    """Withdraw a document: it stays listed, flagged, and can no longer be downloaded."""
    document = await queries.get(session, group_id=access.group.id, document_id=document_id)
    return _document(await queries.withdraw(session, access=access, document=document))


@upload_router.get("/uploads/{upload_id}", response_model=UploadRead)
async def get_upload(own: OwnUpload, store: BlobStoreDep) -> UploadRead:
    """An open upload and the segment ranges already stored, to resume from."""
    return await _upload_read(store, own.upload)


@upload_router.put("/segments/{upload_id}/{index}", response_model=SegmentRead)
async def put_segment(
    index: Annotated[BoundedInt, Path(ge=0)],
    own: OwnUpload,
    store: BlobStoreDep,
    request: Request,
    response: Response,
    count: Annotated[BoundedInt, Query(ge=1, le=MAX_SEGMENTS_PER_PUT)] = 1,
) -> SegmentRead:
    """Store ciphertext segments `index..index+count-1`, sent back to back (fewer requests for
    large files): 201 when any is new, 200 for an identical retry, 409 on different bytes."""
    stored = await service.put_segment(
        store=store, upload=own.upload, index=index, chunks=request.stream(), count=count
    )
    response.status_code = status.HTTP_201_CREATED if stored else status.HTTP_200_OK
    return SegmentRead(index=index, stored=stored, count=count)


@upload_router.post(
    "/uploads/{upload_id}/finalise",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
)
async def finalise(
    finalise_in: UploadFinalise, own: OwnUpload, session: SessionDep, store: BlobStoreDep
) -> VersionRead:
    """Publish the version once every segment is stored and the whole ciphertext hash matches."""
    version = await service.finalise(
        session, access=own.access, store=store, upload=own.upload, finalise_in=finalise_in
    )
    return VersionRead.model_validate(version)


@upload_router.delete("/uploads/{upload_id}", status_code=status.HTTP_204_NO_CONTENT)
async def abort_upload(own: OwnUpload, session: SessionDep, store: BlobStoreDep) -> None:
    """Abandon an upload and delete its segments."""
    await service.abort(session, store=store, upload=own.upload)


@group_router.get("/{group_id}/history/{scope}", response_model=list[MessageRead])
async def history_items(
    scope: Annotated[str, Path(pattern="^(cases|prenotifications)$")],
    access: GroupReader,
    session: SessionDep,
    seq: Annotated[list[Seq], Query(min_length=1, max_length=history.MAX_ITEMS)],
) -> Response:
    """Earlier items of a history scope the signed log grants the caller, by seq."""
    items = await history.get_items(
        session, group_id=access.group.id, user_id=access.user.id, scope=scope, seqs=seq
    )
    return Response(json_bytes(items), media_type="application/json")
