"""Uploads that survive a restart of the process.

What a later run needs to continue an interrupted upload is kept as one named secret in the
device's keystore, so the document key never lies in a file outside the keystore's passphrase
encryption: the upload id, the signed manifest, the document key and the file's SHA-256. What
the server already holds is asked of the server (`LibraryClient.received`), never remembered:
only segments it acknowledged are skipped. A file that changed since is never glued onto the
old segments; its upload is abandoned and a fresh one starts.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.history import DocumentKey
from cordon_client.crypto.stream import Manifest
from cordon_client.exceptions import ApiError
from cordon_client.library.client import (
    LibraryClient,
    Notice,
    PendingUpload,
    Progress,
    Published,
    segment_layout,
)

HASH_CHUNK = 1024 * 1024
Secret = Callable[[str], bytes | None]
SetSecret = Callable[[str, bytes | None], None]


def file_sha256(path: Path) -> bytes:
    """The file's SHA-256, read in chunks (what tells an unchanged file from an edited one)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.digest()


def record_name(
    group_id: uuid.UUID,
    path: Path,
    document_id: uuid.UUID | None,
    version: int,
    category: str | None,
) -> str:
    """The keystore secret for one publication of one file: the same command again finds it
    (another category, document or version is another publication)."""
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    return f"upload:{group_id}:{where}:{document_id or 'new'}:{version}:{category or ''}"


@dataclass(frozen=True, slots=True)
class UploadRecord:
    """An open upload as the keystore keeps it between runs."""

    group_id: uuid.UUID
    upload_id: uuid.UUID
    file_sha256: bytes
    manifest: bytes
    doc_key: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "group_id": str(self.group_id),
                "upload_id": str(self.upload_id),
                "file_sha256": b64e(self.file_sha256),
                "manifest": b64e(self.manifest),
                "doc_key": b64e(self.doc_key),
            }
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> UploadRecord:
        data = json.loads(raw)
        return cls(
            uuid.UUID(data["group_id"]),
            uuid.UUID(data["upload_id"]),
            b64d(data["file_sha256"], length=32, what="file_sha256"),
            b64d(data["manifest"], what="manifest"),
            b64d(data["doc_key"], length=32, what="doc_key"),
        )

    @classmethod
    def of(cls, pending: PendingUpload, sha256: bytes) -> UploadRecord:
        return cls(
            pending.group_id,
            pending.upload_id,
            sha256,
            pending.manifest.to_bytes(),
            pending.key.key,
        )

    def pending(self, path: Path) -> PendingUpload:
        """The upload ready for `LibraryClient.send` again."""
        manifest = Manifest.from_bytes(self.manifest)
        key = DocumentKey(
            manifest.document_id, manifest.version, self.doc_key, manifest.manifest_hash()
        )
        count, size = segment_layout(path.stat().st_size, manifest.segment_size)
        return PendingUpload(self.group_id, self.upload_id, path, manifest, key, count, size)


def _published_already(library: LibraryClient, pending: PendingUpload) -> Published | None:
    """The version, if the last run finalised it before it stopped (then only the keys are
    left to send)."""
    key = pending.key
    try:
        remote = library.version(pending.group_id, key.document_id, key.version)
    except ApiError:
        return None
    if remote.manifest.manifest_hash() != key.manifest_hash:
        return None
    return Published(key.document_id, key.version, key, remote.sha256)


def publish_resumable(
    library: LibraryClient,
    group_id: uuid.UUID,
    path: Path,
    *,
    category: str | None,
    document_id: uuid.UUID | None,
    version: int,
    epoch_id: bytes | None,
    secret: Secret,
    set_secret: SetSecret,
    save: Callable[[], None],
    progress: Progress | None = None,
    notice: Notice | None = None,
) -> tuple[Published, str]:
    """Publish `path`, continuing the upload a previous run of the same publication left open.

    Returns the published version and the name of its keystore record, which the caller
    deletes once the document key has gone out (until then a rerun only re-sends keys).
    """
    say = notice or (lambda _: None)
    name = record_name(group_id, path, document_id, version, category)
    sha256 = file_sha256(path)
    raw = secret(name)
    if raw is not None:
        record = UploadRecord.from_bytes(raw)
        pending = record.pending(path)
        if record.file_sha256 != sha256:
            say(
                f"{path.name} changed since its interrupted upload (SHA-256 differs): "
                "that upload is abandoned and a new one starts"
            )
            library.abort(record.upload_id)
        else:
            done = _published_already(library, pending)
            if done is not None:
                say("the interrupted upload was already published; sending the document key")
                return done, name
            try:
                have = library.received(record.upload_id)
            except ApiError as exc:
                say(f"the interrupted upload is gone from the server ({exc.code}); starting over")
            else:
                say(
                    f"resuming the interrupted upload: {len(have)} of {pending.segment_count} "
                    "segments are already on the server"
                )
                return library.send(pending, progress=progress, have=have), name
        set_secret(name, None)
        save()
    pending = library.prepare(
        group_id,
        path,
        category=category,
        document_id=document_id,
        version=version,
        epoch_id=epoch_id,
    )
    set_secret(name, UploadRecord.of(pending, sha256).to_bytes())
    save()  # before the first segment: a run killed from here on can resume
    return library.send(pending, progress=progress, have=set()), name
