"""Blob storage: resumable segment uploads and content-addressed, atomically published blobs.

`BlobStore` is what the service needs; `FilesystemBlobStore` keeps everything under one root:

    <root>/uploads/<upload id>/<index>     complete segments (a segment appears whole or not at all)
    <root>/tmp/                            files being written
    <root>/sha256/<ab>/<cd>/<hex digest>   published blobs, named by the SHA-256 of the ciphertext

Files are written to `tmp/`, fsynced, then linked or renamed into place, so a reader never sees
a partial segment or blob. Blocking calls run in worker threads; memory per call is bounded by
one segment or one read chunk.
"""

import hashlib
import os
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from anyio import to_thread

READ_CHUNK = 1024 * 1024
COPY_CHUNK = 4 * 1024 * 1024


class SegmentOutcome(Enum):
    """What storing a segment did."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class StagedBlob:
    """An assembled blob that is not yet visible; publish or discard it."""

    sha256_hex: str
    size: int
    path: Path


class BlobStore(Protocol):
    """Storage the library needs; an S3-compatible store would implement the same calls."""

    async def put_segment(self, upload_id: uuid.UUID, index: int, data: bytes) -> SegmentOutcome:
        """Store a segment once; the same bytes again are a no-op, other bytes a conflict."""
        ...

    async def segment_sizes(self, upload_id: uuid.UUID) -> dict[int, int]:
        """Sizes of the segments received so far, by index."""
        ...

    async def stage(self, upload_id: uuid.UUID, count: int) -> StagedBlob:
        """Concatenate segments 0..count-1 into a hidden blob and hash it."""
        ...

    async def publish(self, staged: StagedBlob) -> None:
        """Make a staged blob visible under its digest (atomic; idempotent)."""
        ...

    async def discard(self, staged: StagedBlob) -> None:
        """Drop a staged blob that will not be published."""
        ...

    async def drop_upload(self, upload_id: uuid.UUID) -> None:
        """Remove an upload's segments."""
        ...

    async def size(self, sha256_hex: str) -> int | None:
        """Size of a published blob, or None if it is absent."""
        ...

    def read(self, sha256_hex: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) of a published blob."""
        ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_digest(path: Path) -> bytes:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()


class FilesystemBlobStore:
    """The default store: a directory on the server's disk."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._uploads = self.root / "uploads"
        self._blobs = self.root / "sha256"

    def _blob_path(self, sha256_hex: str) -> Path:
        if len(sha256_hex) != 64 or not all(c in "0123456789abcdef" for c in sha256_hex):
            raise ValueError("not a SHA-256 hex digest")
        return self._blobs / sha256_hex[:2] / sha256_hex[2:4] / sha256_hex

    def _tmp_file(self) -> Path:
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp / secrets.token_hex(16)

    def _put_segment(self, upload_id: uuid.UUID, index: int, data: bytes) -> SegmentOutcome:
        folder = self._uploads / str(upload_id)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / str(index)
        if final.exists():
            return self._compare(final, data)
        tmp = self._tmp_file()
        # No fsync per segment: a segment torn by a crash fails its size check at finalise
        # (and the assembled blob is fsynced before it becomes visible).
        tmp.write_bytes(data)
        try:
            os.link(tmp, final)  # fails if a concurrent request stored this index first
        except FileExistsError:
            return self._compare(final, data)
        finally:
            tmp.unlink(missing_ok=True)
        return SegmentOutcome.STORED

    @staticmethod
    def _compare(final: Path, data: bytes) -> SegmentOutcome:
        same = _file_digest(final) == hashlib.sha256(data).digest()
        return SegmentOutcome.DUPLICATE if same else SegmentOutcome.CONFLICT

    async def put_segment(self, upload_id: uuid.UUID, index: int, data: bytes) -> SegmentOutcome:
        """Store a segment once; the same bytes again are a no-op, other bytes a conflict."""
        return await to_thread.run_sync(self._put_segment, upload_id, index, data)

    def _segment_sizes(self, upload_id: uuid.UUID) -> dict[int, int]:
        folder = self._uploads / str(upload_id)
        if not folder.is_dir():
            return {}
        return {int(e.name): e.stat().st_size for e in os.scandir(folder) if e.name.isdigit()}

    async def segment_sizes(self, upload_id: uuid.UUID) -> dict[int, int]:
        """Sizes of the segments received so far, by index."""
        return await to_thread.run_sync(self._segment_sizes, upload_id)

    def _stage(self, upload_id: uuid.UUID, count: int) -> StagedBlob:
        folder = self._uploads / str(upload_id)
        tmp = self._tmp_file()
        digest = hashlib.sha256()
        size = 0
        try:
            with tmp.open("wb") as out:
                for index in range(count):
                    with (folder / str(index)).open("rb") as seg:
                        while chunk := seg.read(COPY_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                            size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StagedBlob(digest.hexdigest(), size, tmp)

    async def stage(self, upload_id: uuid.UUID, count: int) -> StagedBlob:
        """Concatenate segments 0..count-1 into a hidden blob and hash it."""
        return await to_thread.run_sync(self._stage, upload_id, count)

    def _publish(self, staged: StagedBlob) -> None:
        final = self._blob_path(staged.sha256_hex)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # same digest, same bytes: keep the published copy
            staged.path.unlink(missing_ok=True)
            return
        os.replace(staged.path, final)
        _fsync_dir(final.parent)

    async def publish(self, staged: StagedBlob) -> None:
        """Make a staged blob visible under its digest (atomic; idempotent)."""
        await to_thread.run_sync(self._publish, staged)

    async def discard(self, staged: StagedBlob) -> None:
        """Drop a staged blob that will not be published."""
        await to_thread.run_sync(lambda: staged.path.unlink(missing_ok=True))

    async def drop_upload(self, upload_id: uuid.UUID) -> None:
        """Remove an upload's segments."""
        folder = self._uploads / str(upload_id)
        await to_thread.run_sync(lambda: shutil.rmtree(folder, ignore_errors=True))

    async def size(self, sha256_hex: str) -> int | None:
        """Size of a published blob, or None if it is absent."""
        path = self._blob_path(sha256_hex)
        try:
            return (await to_thread.run_sync(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def read(self, sha256_hex: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) of a published blob in bounded chunks."""
        fh = await to_thread.run_sync(self._blob_path(sha256_hex).open, "rb")
        try:
            await to_thread.run_sync(fh.seek, start)
            remaining = end - start
            while remaining > 0:
                chunk = await to_thread.run_sync(fh.read, min(READ_CHUNK, remaining))
                if not chunk:
                    return
                remaining -= len(chunk)
                yield chunk
        finally:
            await to_thread.run_sync(fh.close)
