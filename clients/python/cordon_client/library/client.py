"""The document library over HTTP: encrypt and upload, resume, list, download and verify.

Memory stays at a few segments on both sides: files are read, encrypted and streamed into the
open PUT one segment at a time (however many segments a PUT carries), and downloads are
decrypted as they stream. A downloaded file is written to a hidden
temporary file next to its destination and renamed into place only after the final STREAM
segment authenticates, so a tampered, truncated or reordered document never appears under its
name (PROTOCOL.md §8).
"""

from __future__ import annotations

import hashlib
import itertools
import mimetypes
import os
import queue
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.authority import check_manifest
from cordon_client.crypto.history import DocumentKey
from cordon_client.crypto.roster import Roster
from cordon_client.crypto.stream import (
    MAX_SEGMENT,
    NO_EPOCH,
    TAG,
    Manifest,
    StreamDecryptor,
    StreamEncryptor,
    create_manifest,
    decrypt_metadata,
    new_document_key,
)
from cordon_client.exceptions import ApiError, MalformedError

Progress = Callable[[int], None]
SEGMENT_RETRIES = 5
PARALLEL_PUTS = 3  # overlaps encryption and the next body with the server's work
SEGMENTS_PER_PUT = 8  # amortises per-request cost; bodies are streamed, so memory stays flat
DOWNLOAD_CHUNK = 1024 * 1024


def _check(response: httpx.Response) -> httpx.Response:
    """The response, once ApiError has had its say on a 4xx/5xx."""
    ApiError.raise_for(response)
    return response


def segment_layout(plain_size: int, segment_size: int) -> tuple[int, int]:
    """(segment count, ciphertext size) of a plaintext: an empty file is one empty segment."""
    count = max(1, -(-plain_size // segment_size))
    return count, plain_size + TAG * count


@dataclass(frozen=True, slots=True)
class RemoteVersion:
    """A published version as the server describes it (the manifest is not yet verified)."""

    document_id: uuid.UUID
    version: int
    size: int
    segment_size: int
    segment_count: int
    sha256: bytes
    manifest: Manifest
    publisher_device_id: uuid.UUID | None
    published_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteVersion:
        """Parse the server's `VersionRead`; a malformed manifest is a MalformedError."""
        device = data.get("publisher_device_id")
        return cls(
            uuid.UUID(data["document_id"]),
            int(data["version"]),
            int(data["size"]),
            int(data["segment_size"]),
            int(data["segment_count"]),
            b64d(data["sha256"], length=32, what="sha256"),
            Manifest.from_bytes(b64d(data["manifest"], what="manifest")),
            uuid.UUID(device) if device else None,
            datetime.fromisoformat(data["published_at"]),
        )


@dataclass(frozen=True, slots=True)
class RemoteDocument:
    """A library entry with its latest version."""

    id: uuid.UUID
    category: str
    latest_version: int
    published_at: datetime
    withdrawn: bool
    latest: RemoteVersion | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteDocument:
        """Parse the server's `DocumentWithLatest`."""
        latest = data.get("latest")
        return cls(
            uuid.UUID(data["id"]),
            str(data["category"]),
            int(data["latest_version"]),
            datetime.fromisoformat(data["published_at"]),
            bool(data["withdrawn"]),
            RemoteVersion.from_json(latest) if latest else None,
        )


@dataclass(slots=True)
class PendingUpload:
    """An upload in progress; keep it to resume with `LibraryClient.send` after a failure."""

    group_id: uuid.UUID
    upload_id: uuid.UUID
    path: Path
    manifest: Manifest
    key: DocumentKey = field(repr=False)
    segment_count: int
    size: int


@dataclass(frozen=True, slots=True)
class Published:
    """A published version and the key its readers need (distribute it as DOCUMENT_KEY)."""

    document_id: uuid.UUID
    version: int
    key: DocumentKey = field(repr=False)
    sha256: bytes


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A verified, decrypted document written to `path`."""

    path: Path
    name: str
    media_type: str
    size: int


class _Aborted(Exception):
    """The encrypting thread stopped before handing over a whole batch."""


class _Batch:
    """Consecutive segments sent in one PUT, handed over one at a time from the thread that
    encrypts them to the thread that streams them (at most one waits in between)."""

    def __init__(self, first: int, count: int, length: int) -> None:
        self.first = first
        self.count = count
        self.length = length  # ciphertext bytes, sent as Content-Length
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self._fed = 0  # touched by the encrypting thread only
        self._taken = 0  # touched by the sending thread only

    @property
    def end(self) -> int:
        return self.first + self.count

    def feed(self, segment: bytes) -> None:
        """Hand over the next segment; blocks while the sender is one segment behind."""
        self._queue.put(segment)
        self._fed += 1

    def abort(self) -> None:
        """Tell the sender no more segments are coming (no-op once all were fed)."""
        if self._fed < self.count:
            self._fed = self.count
            self._queue.put(None)

    def body(self) -> Iterator[bytes]:
        """The request body: segments as they are handed over."""
        while self._taken < self.count:
            segment = self._queue.get()
            if segment is None:
                self._taken = self.count
                raise _Aborted("the upload stopped mid-batch")
            self._taken += 1
            yield segment

    def drain(self) -> None:
        """Take whatever is still to come, so the encrypting thread never blocks forever."""
        while self._taken < self.count:
            self._taken = self.count if self._queue.get() is None else self._taken + 1


class LibraryClient:
    """Library calls for one device; `http` carries the base URL and the bearer token."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        device_id: uuid.UUID | None = None,
        signing_key: Ed25519PrivateKey | None = None,
        segments_per_put: int = SEGMENTS_PER_PUT,
        epoch_id: bytes = NO_EPOCH,
    ) -> None:
        self._http = http
        self._device_id = device_id
        self._signing_key = signing_key
        self._epoch_id = epoch_id  # the verified log head signed into manifests by default
        self._segments_per_put = segments_per_put

    def _base(self, group_id: uuid.UUID) -> str:
        return f"/api/v1/groups/{group_id}/library"

    def documents(
        self, group_id: uuid.UUID, *, category: str | None = None
    ) -> Iterator[RemoteDocument]:
        """Every document of the group, newest publication first, following the cursor.

        Raises:
            ApiError: not a member (`group.not_found`) or another refusal.
        """
        params: dict[str, str] = {"limit": "200"}
        if category:
            params["category"] = category
        while True:
            page = _check(self._http.get(f"{self._base(group_id)}/documents", params=params)).json()
            yield from (RemoteDocument.from_json(d) for d in page["items"])
            if not page.get("next_cursor"):
                return
            params["cursor"] = page["next_cursor"]

    def versions(self, group_id: uuid.UUID, document_id: uuid.UUID) -> list[RemoteVersion]:
        """Every version of a document, oldest first."""
        url = f"{self._base(group_id)}/documents/{document_id}/versions"
        return [RemoteVersion.from_json(v) for v in _check(self._http.get(url)).json()]

    def document(self, group_id: uuid.UUID, document_id: uuid.UUID) -> RemoteDocument:
        """One document with its latest version (its category is checked against manifests)."""
        url = f"{self._base(group_id)}/documents/{document_id}"
        return RemoteDocument.from_json(_check(self._http.get(url)).json())

    def version(self, group_id: uuid.UUID, document_id: uuid.UUID, version: int) -> RemoteVersion:
        """One version's description."""
        url = f"{self._base(group_id)}/documents/{document_id}/versions/{version}"
        return RemoteVersion.from_json(_check(self._http.get(url)).json())

    def prepare(
        self,
        group_id: uuid.UUID,
        path: Path,
        *,
        category: str | None,
        document_id: uuid.UUID | None = None,
        version: int = 1,
        name: str | None = None,
        media_type: str | None = None,
        segment_size: int = MAX_SEGMENT,
        epoch_id: bytes | None = None,
    ) -> PendingUpload:
        """Make a fresh key and signed manifest and open the upload on the server.

        Args:
            category: required for a new document; later versions keep the document's (the
                manifest signs it, and the server refuses a mismatch).
            document_id: an existing document to add `version` to, or None for a new one.
            epoch_id: this device's verified log head, signed into the manifest.
        Raises:
            ApiError: e.g. `group.role_required`, `library.quota_exceeded`,
                `library.document_too_large`, `library.version_conflict`.
        """
        if self._signing_key is None or self._device_id is None:
            raise ValueError("publishing needs this device's id and signing key")
        doc_id = document_id or uuid.uuid4()
        if category is None and document_id is not None:
            category = self.document(group_id, document_id).category
        if category is None:
            raise ValueError("a new document needs a category")
        doc_key = new_document_key()
        manifest = create_manifest(
            doc_key=doc_key,
            signing_key=self._signing_key,
            group_id=group_id,
            document_id=doc_id,
            version=version,
            uploader_device_id=self._device_id,
            ts=int(time.time() * 1000),
            name=name or path.name,
            media_type=media_type
            or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream",
            category=category,
            epoch_id=epoch_id or self._epoch_id,
            segment_size=segment_size,
        )
        count, size = segment_layout(path.stat().st_size, segment_size)
        body = {
            "document_id": str(doc_id),
            "version": version,
            "category": category,
            "segment_size": segment_size,
            "segment_count": count,
            "size": size,
            "manifest": b64e(manifest.to_bytes()),
        }
        data = _check(self._http.post(f"{self._base(group_id)}/uploads", json=body)).json()
        key = DocumentKey(doc_id, version, doc_key, manifest.manifest_hash())
        return PendingUpload(group_id, uuid.UUID(data["id"]), path, manifest, key, count, size)

    def _received(self, upload_id: uuid.UUID) -> set[int]:
        data = _check(self._http.get(f"/api/v1/library/uploads/{upload_id}")).json()
        return {i for start, end in data["received"] for i in range(start, end)}

    def _put(self, pending: PendingUpload, batch: _Batch) -> None:
        """PUT one batch, streamed as the encrypting thread hands its segments over; a dropped
        connection is retried with the segments re-encrypted from the file (idempotent)."""
        url = f"/api/v1/library/segments/{pending.upload_id}/{batch.first}"
        params = {"count": str(batch.count)}
        headers = {"Content-Length": str(batch.length)}
        try:
            for attempt in range(SEGMENT_RETRIES):
                body = batch.body() if attempt == 0 else self._reencrypt(pending, batch)
                try:
                    _check(self._http.put(url, params=params, headers=headers, content=body))
                    return
                except httpx.TransportError:
                    if attempt == SEGMENT_RETRIES - 1:
                        raise
                    batch.drain()
                    time.sleep(0.2 * 2**attempt)
        finally:
            batch.drain()

    def _reencrypt(self, pending: PendingUpload, batch: _Batch) -> Iterator[bytes]:
        """A batch's segments again, one at a time (a retry is rare; this costs a re-read)."""
        return itertools.islice(self._segments(pending), batch.first, batch.end)

    def _segments(self, pending: PendingUpload) -> Iterator[bytes]:
        """Re-encrypt the file segment by segment (deterministic for a given key and manifest)."""
        enc = StreamEncryptor(pending.key.key, pending.manifest)
        seg = pending.manifest.segment_size
        with pending.path.open("rb") as fh:
            while chunk := fh.read(seg):
                out = enc.update(chunk)
                if out:
                    yield out
        yield enc.finalize()

    def _batches(self, pending: PendingUpload, have: set[int]) -> Iterator[_Batch]:
        """Runs of missing segments, at most `segments_per_put` long, in order."""
        full = pending.manifest.segment_size + TAG
        first = 0
        while first < pending.segment_count:
            if first in have:
                first += 1
                continue
            end = first
            while (
                end < pending.segment_count
                and end not in have
                and end - first < self._segments_per_put
            ):
                end += 1
            length = min(end * full, pending.size) - first * full
            yield _Batch(first, end - first, length)
            first = end

    def send(self, pending: PendingUpload, *, progress: Progress | None = None) -> Published:
        """Send the segments the server lacks, then finalise; call again to resume.

        This thread reads, encrypts and hashes the file one segment at a time and hands each
        missing segment to the PUT streaming its batch, so memory stays at a few segments
        however many go in one request.

        Raises:
            ApiError: e.g. `library.segment_conflict` if the file changed since `prepare`.
            httpx.TransportError: the connection failed repeatedly; `send` again later.
        """
        batches = self._batches(pending, self._received(pending.upload_id))
        digest = hashlib.sha256()
        index = -1
        in_flight: deque[Future[None]] = deque()
        upcoming = next(batches, None)
        current: _Batch | None = None
        with ThreadPoolExecutor(max_workers=PARALLEL_PUTS) as pool:
            try:
                for index, segment in enumerate(self._segments(pending)):
                    digest.update(segment)
                    if upcoming is not None and index == upcoming.first:
                        if len(in_flight) >= PARALLEL_PUTS:
                            in_flight.popleft().result()
                        current, upcoming = upcoming, next(batches, None)
                        in_flight.append(pool.submit(self._put, pending, current))
                    if current is not None and current.first <= index < current.end:
                        current.feed(segment)
                    if progress:
                        progress(len(segment))
                if index + 1 != pending.segment_count:
                    raise ValueError("the file changed size since the upload was prepared")
            finally:
                if current is not None:
                    current.abort()  # a no-op once fed; else its PUT fails instead of waiting
            while in_flight:
                in_flight.popleft().result()
        body = {"segment_count": pending.segment_count, "sha256": b64e(digest.digest())}
        url = f"/api/v1/library/uploads/{pending.upload_id}/finalise"
        _check(self._http.post(url, json=body))
        return Published(pending.key.document_id, pending.key.version, pending.key, digest.digest())

    def publish(
        self,
        group_id: uuid.UUID,
        path: Path,
        *,
        category: str | None,
        document_id: uuid.UUID | None = None,
        version: int = 1,
        progress: Progress | None = None,
        epoch_id: bytes | None = None,
    ) -> Published:
        """Encrypt and publish a file as a new document or a new version of one.

        The returned key must reach the group's readers as a DOCUMENT_KEY envelope
        (`GroupSession.share_document_key`); the server never sees it.
        """
        pending = self.prepare(
            group_id,
            path,
            category=category,
            document_id=document_id,
            version=version,
            epoch_id=epoch_id,
        )
        return self.send(pending, progress=progress)

    def download(
        self,
        group_id: uuid.UUID,
        document_id: uuid.UUID,
        version: int,
        *,
        key: DocumentKey,
        roster: Roster,
        dest: Path,
        progress: Progress | None = None,
        remote: RemoteVersion | None = None,
        category: str | None = None,
    ) -> Downloaded:
        """Download, verify and decrypt one version into `dest` (a file or a directory).
        `remote` is the version as `version()` returned it, if the caller already fetched it;
        `category` is the server's routing copy, checked against the signed manifest.

        The manifest must be signed by a device that belonged to a coordinator at the log
        head it names, commit to `key`, and match it; every segment must authenticate in
        order and the final one must be present, or nothing is written under the final name.

        Raises:
            UnauthorisedKeyingError: the uploader was not a coordinator's device there.
            SignatureError: the manifest is not signed by the uploading device.
            DocumentKeyConflictError: `key` was issued for another manifest or version.
            CategoryMismatchError: the server's category is not the signed one.
            DecryptionError: a segment was altered, reordered, dropped or appended to.
            TruncatedError: the document ends before its final segment.
            ApiError: e.g. `library.withdrawn` (410), `group.not_found`.
        """
        remote = remote or self.version(group_id, document_id, version)
        manifest = remote.manifest
        if (manifest.group_id, manifest.document_id, manifest.version) != (
            group_id,
            document_id,
            version,
        ) or (key.document_id, key.version) != (document_id, version):
            raise MalformedError("the manifest or key is for another document version")
        check_manifest(roster, manifest, key=key, category=category)
        name, media_type = decrypt_metadata(manifest, key.key)
        target = dest / Path(name).name if dest.is_dir() else dest
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            size = self._stream_to(group_id, remote, key, tmp, progress)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return Downloaded(target, name, media_type, size)

    def _stream_to(
        self,
        group_id: uuid.UUID,
        remote: RemoteVersion,
        key: DocumentKey,
        tmp: Path,
        progress: Progress | None,
    ) -> int:
        """Decrypt the streamed ciphertext into `tmp`; return the plaintext size."""
        url = (
            f"{self._base(group_id)}/documents/{remote.document_id}"
            f"/versions/{remote.version}/content"
        )
        dec = StreamDecryptor(key.key, remote.manifest)
        size = 0
        with self._http.stream("GET", url) as response:
            if response.status_code >= 400:
                response.read()
                _check(response)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
                    plain = dec.update(chunk)
                    out.write(plain)
                    size += len(plain)
                    if progress:
                        progress(len(chunk))
                plain = dec.finalize()
                out.write(plain)
                size += len(plain)
                out.flush()
                os.fsync(out.fileno())
        return size
