"""Library dependencies: the blob store, the publisher gate and upload ownership.

Group-scoped routes use `app.groups.dependencies`. Upload routes carry no group id in the path
(segment PUTs are exempt from the JSON body limit by path prefix), so `upload_access` reads the
upload with its group and the opener's live membership in one query (the condition of
`groups_service.find_access`, joined; nothing cached) and applies the publisher rule.
"""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import HTTPConnection

from app.auth.dependencies import CurrentPrincipal
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.groups.dependencies import GroupCoordinating
from app.groups.service import GroupAccess
from app.library import service
from app.library.exceptions import UploadNotFound
from app.library.models import Upload
from app.library.pg_storage import PostgresBlobStore
from app.library.storage import BlobStore, FilesystemBlobStore

DEFAULT_BLOB_DIR = "./data/blobs"


def make_blob_store(settings: Settings, engine: AsyncEngine) -> BlobStore:
    """A directory when `CORDON_BLOB_DIR` names one (shared by every process only if they all
    name the same one), else PostgreSQL when it is the database, else `./data/blobs`."""
    if settings.blob_dir is not None:
        return FilesystemBlobStore(settings.blob_dir)
    if not settings.is_sqlite:
        return PostgresBlobStore(engine)
    return FilesystemBlobStore(DEFAULT_BLOB_DIR)


async def close_blob_store(app: object) -> None:
    """Close the app's blob store if it holds connections of its own (the PostgreSQL one)."""
    store = getattr(getattr(app, "state", None), "blob_store", None)
    if isinstance(store, PostgresBlobStore):
        await store.aclose()


def get_blob_store(conn: HTTPConnection, settings: SettingsDep) -> BlobStore:
    """The app's blob store, created on first use."""
    store: BlobStore | None = getattr(conn.app.state, "blob_store", None)
    if store is None:
        store = make_blob_store(settings, conn.app.state.engine)
        conn.app.state.blob_store = store
    return store


async def require_publisher(access: GroupCoordinating) -> GroupAccess:
    """Coordinators, and co-coordinators where the group lets them publish."""
    service.ensure_may_publish(access)
    return access


@dataclass(frozen=True, slots=True)
class UploadAccess:
    """An open upload together with the uploader's current right to publish in its group."""

    upload: Upload
    access: GroupAccess
    device_id: uuid.UUID


async def upload_access(
    upload_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> UploadAccess:
    """Only the user who opened an upload sees it, and only while still a publisher."""
    found = await service.get_upload(session, upload_id=upload_id, user=principal.user)
    if found is None:
        raise UploadNotFound()
    upload, access = found
    service.ensure_may_publish(access)
    return UploadAccess(upload, access, principal.device.id)


BlobStoreDep = Annotated[BlobStore, Depends(get_blob_store)]
LibraryPublisher = Annotated[GroupAccess, Depends(require_publisher)]
OwnUpload = Annotated[UploadAccess, Depends(upload_access)]
