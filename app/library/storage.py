"""Blob storage: resumable segment uploads and content-addressed, atomically published blobs.

`BlobStore` is what the service needs. With PostgreSQL configured and no `CORDON_BLOB_DIR`, the
blobs live in the database (`app.library.pg_storage`), shared by every server process; otherwise
`FilesystemBlobStore` keeps everything under one root, which several processes share only if
`CORDON_BLOB_DIR` names the same directory for all of them:

    <root>/uploads/<upload id>/data        the ciphertext, each segment written at its offset
    <root>/uploads/<upload id>/segments    journal: one (index, length) record per whole segment
    <root>/sha256/<ab>/<cd>/<hex digest>   published blobs, named by the SHA-256 of the ciphertext

A segment counts as stored once its journal record is written, after its bytes; a stored segment
is never overwritten (a different re-PUT is a conflict). Every change to an upload happens under
an exclusive `flock` of its data file, which excludes other threads and other processes alike.
Segments are hashed as they arrive in order, so finalising needs no second pass over the bytes:
under the lock, the data file is fsynced and renamed to its digest, which makes it visible whole
or not at all, and a late writer that was waiting for the lock finds its upload gone. The
running hash lives in this process only; another process (or a restart) re-hashes from disk.
Blocking calls run in worker threads; memory per call is bounded by one segment or read chunk.
"""

import fcntl
import hashlib
import os
import shutil
import struct
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from anyio import to_thread

READ_CHUNK = 1024 * 1024
RUNNING_HASHES = 256  # open uploads whose running hash this process keeps
_RECORD = struct.Struct(">II")  # segment index, length

Buffer = bytes | memoryview


class SegmentOutcome(Enum):
    """What storing a segment did."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    GONE = "gone"


@dataclass(frozen=True, slots=True)
class StagedBlob:
    """A hashed, durable upload held under its lock; publish it, then release it (`discard`).
    `path` and `fd` are the filesystem store's, `lease` another store's hold on it."""

    sha256_hex: str
    size: int
    path: Path | None = None
    fd: int = -1
    lease: object = None


@dataclass(slots=True)
class _Running:
    """SHA-256 over the upload's first `size` bytes, which are segments 0..`next_index`-1."""

    digest: "hashlib._Hash"
    next_index: int = 0
    size: int = 0


class BlobStore(Protocol):
    """Storage the library needs; an S3-compatible store would implement the same calls."""

    async def open_upload(self, upload_id: uuid.UUID) -> None:
        """Make room for a new upload's segments."""
        ...

    async def put_segment(
        self, upload_id: uuid.UUID, index: int, offset: int, parts: Sequence[Buffer]
    ) -> SegmentOutcome:
        """Store a segment (given in parts) at `offset` once; the same bytes again are a no-op,
        other bytes a conflict, and GONE if the upload was finalised or dropped meanwhile."""
        ...

    async def segment_sizes(self, upload_id: uuid.UUID) -> dict[int, int]:
        """Sizes of the segments received so far, by index."""
        ...

    async def stage(self, upload_id: uuid.UUID) -> StagedBlob | None:
        """Lock, hash and fsync the upload's ciphertext (None if it is gone); still hidden."""
        ...

    async def publish(self, staged: StagedBlob) -> None:
        """Make a staged blob visible under its digest (atomic; idempotent)."""
        ...

    async def discard(self, staged: StagedBlob) -> None:
        """Release a staged blob; an unpublished upload keeps its segments."""
        ...

    async def drop_upload(self, upload_id: uuid.UUID) -> None:
        """Remove an upload's segments."""
        ...

    async def size(self, sha256_hex: str) -> int | None:
        """Size of a published blob, or None if it is absent (or incomplete) in this store:
        checked before a download answers, so a missing blob is a 503, not a truncated 200."""
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


def _pwrite_all(fd: int, parts: Sequence[Buffer], offset: int) -> None:
    for part in parts:
        view = memoryview(part)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written


def _hash_range(fd: int, digest: "hashlib._Hash", start: int, end: int) -> None:
    while start < end:
        chunk = os.pread(fd, min(READ_CHUNK, end - start), start)
        if not chunk:
            raise OSError("upload data ends early")
        digest.update(chunk)
        start += len(chunk)


class FilesystemBlobStore:
    """The default store: a directory on the server's disk."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._uploads = self.root / "uploads"
        self._blobs = self.root / "sha256"
        self._running: OrderedDict[uuid.UUID, _Running] = OrderedDict()

    def _blob_path(self, sha256_hex: str) -> Path:
        if len(sha256_hex) != 64 or not all(c in "0123456789abcdef" for c in sha256_hex):
            raise ValueError("not a SHA-256 hex digest")
        return self._blobs / sha256_hex[:2] / sha256_hex[2:4] / sha256_hex

    def _data_path(self, upload_id: uuid.UUID) -> Path:
        return self._uploads / str(upload_id) / "data"

    def _lock(self, upload_id: uuid.UUID) -> int | None:
        """The upload's data file, opened and exclusively locked (the caller closes it, which
        releases the lock); None once the upload is gone. Only `open_upload` creates the file,
        so a writer that lost a race with finalise or abort finds nothing to write into
        instead of leaving an orphan behind."""
        path = self._data_path(upload_id)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # renamed (published) or dropped while we waited
        return None

    @contextmanager
    def _locked(self, upload_id: uuid.UUID) -> Iterator[int | None]:
        """`_lock` for the length of a `with` block."""
        fd = self._lock(upload_id)
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)

    def _open_upload(self, upload_id: uuid.UUID) -> None:
        path = self._data_path(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)

    async def open_upload(self, upload_id: uuid.UUID) -> None:
        """Make room for a new upload's segments."""
        await to_thread.run_sync(self._open_upload, upload_id)

    def _journal(self, upload_id: uuid.UUID) -> dict[int, int]:
        try:
            raw = (self._uploads / str(upload_id) / "segments").read_bytes()
        except FileNotFoundError:
            return {}
        whole = len(raw) - len(raw) % _RECORD.size  # a torn last record never counts
        return dict(_RECORD.iter_unpack(raw[:whole]))

    def _record(self, upload_id: uuid.UUID, index: int, length: int) -> None:
        path = self._uploads / str(upload_id) / "segments"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            end = os.fstat(fd).st_size
            end -= end % _RECORD.size  # write over a record torn by a crash
            os.pwrite(fd, _RECORD.pack(index, length), end)
            os.ftruncate(fd, end + _RECORD.size)
        finally:
            os.close(fd)

    def _advance(
        self, upload_id: uuid.UUID, fd: int, stored: dict[int, int], running: _Running
    ) -> _Running:
        """Extend a running hash over every stored segment contiguous with it (lock held)."""
        while (length := stored.get(running.next_index)) is not None:
            _hash_range(fd, running.digest, running.size, running.size + length)
            running.next_index += 1
            running.size += length
        self._running.pop(upload_id, None)
        self._running[upload_id] = running
        while len(self._running) > RUNNING_HASHES:
            self._running.popitem(last=False)
        return running

    def _put_segment(
        self, upload_id: uuid.UUID, index: int, offset: int, parts: Sequence[Buffer]
    ) -> SegmentOutcome:
        length = sum(len(p) for p in parts)
        with self._locked(upload_id) as fd:
            if fd is None:
                return SegmentOutcome.GONE
            stored = self._journal(upload_id)
            if index in stored:
                same = stored[index] == length and os.pread(fd, length, offset) == b"".join(parts)
                return SegmentOutcome.DUPLICATE if same else SegmentOutcome.CONFLICT
            # No fsync per segment: the whole file is fsynced before it becomes visible.
            _pwrite_all(fd, parts, offset)
            self._record(upload_id, index, length)
            stored[index] = length
            running = self._running.get(upload_id)
            if running is None and index == 0:
                running = _Running(hashlib.sha256())
            if running is not None:
                if running.next_index == index:  # in order: hash from memory, not from disk
                    for part in parts:
                        running.digest.update(part)
                    running.next_index += 1
                    running.size += length
                self._advance(upload_id, fd, stored, running)
        return SegmentOutcome.STORED

    async def put_segment(
        self, upload_id: uuid.UUID, index: int, offset: int, parts: Sequence[Buffer]
    ) -> SegmentOutcome:
        """Store a segment (given in parts) at `offset` once; the same bytes again are a no-op,
        other bytes a conflict, and GONE if the upload was finalised or dropped meanwhile."""
        return await to_thread.run_sync(self._put_segment, upload_id, index, offset, parts)

    async def segment_sizes(self, upload_id: uuid.UUID) -> dict[int, int]:
        """Sizes of the segments received so far, by index."""
        return await to_thread.run_sync(self._journal, upload_id)

    def _stage(self, upload_id: uuid.UUID) -> StagedBlob | None:
        fd = self._lock(upload_id)
        if fd is None:
            return None
        try:
            running = self._running.get(upload_id) or _Running(hashlib.sha256())
            running = self._advance(upload_id, fd, self._journal(upload_id), running)
            size = os.fstat(fd).st_size
            digest = running.digest.copy()
            _hash_range(fd, digest, running.size, size)  # bytes past the contiguous prefix
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return StagedBlob(digest.hexdigest(), size, path=self._data_path(upload_id), fd=fd)

    async def stage(self, upload_id: uuid.UUID) -> StagedBlob | None:
        """Lock, hash and fsync the upload's ciphertext (None if it is gone); still hidden."""
        return await to_thread.run_sync(self._stage, upload_id)

    def _publish(self, staged: StagedBlob) -> None:
        assert staged.path is not None, "a blob staged by another store"
        final = self._blob_path(staged.sha256_hex)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # same digest, same bytes: keep the published copy
            return
        os.replace(staged.path, final)
        _fsync_dir(final.parent)

    async def publish(self, staged: StagedBlob) -> None:
        """Make a staged blob visible under its digest (atomic; idempotent)."""
        await to_thread.run_sync(self._publish, staged)

    async def discard(self, staged: StagedBlob) -> None:
        """Release a staged blob; an unpublished upload keeps its segments."""
        os.close(staged.fd)

    async def drop_upload(self, upload_id: uuid.UUID) -> None:
        """Remove an upload's segments."""
        self._running.pop(upload_id, None)
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
