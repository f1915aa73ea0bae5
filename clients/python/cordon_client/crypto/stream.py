"""Document encryption with the STREAM construction and signed manifests (PROTOCOL.md §8).

Pure and sans-I/O: the server imports `parse_manifest`/`verify_manifest` to check an upload,
so the manifest has exactly one implementation.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
import uuid
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cordon_client.crypto._encoding import (
    decode,
    encode,
    fields_to_ints,
    hkdf_sha256,
    label,
    sha256,
    signing_input,
)
from cordon_client.crypto.keys import verify_sig
from cordon_client.exceptions import (
    DecryptionError,
    MalformedError,
    TruncatedError,
    UnsupportedVersionError,
)

MANIFEST_VERSION = 2
CATEGORIES = (
    "newsletter",
    "daily_report",
    "analysis_report",
    "right_holder_material",
    "best_practice",
    "training",
    "other",
)
NO_EPOCH = b"\x00" * 32
MIN_SEGMENT = 64 * 1024
MAX_SEGMENT = 1024 * 1024
DEFAULT_SEGMENT = MIN_SEGMENT
NONCE_PREFIX_LEN = 7
TAG = 16
_ZERO_NONCE = b"\x00" * 12


def new_document_key() -> bytes:
    """A fresh random key for one document version; never reused across versions."""
    return os.urandom(32)


def _subkey(doc_key: bytes, purpose: str) -> bytes:
    return hkdf_sha256(doc_key, salt=b"", info=label(purpose), length=32)


def key_commitment(
    doc_key: bytes, group_id: uuid.UUID, document_id: uuid.UUID, version: int
) -> bytes:
    """Commits the manifest to one key (AES-GCM alone does not), so a second, different key
    for the same version can never open it."""
    info = signing_input("doc-key-commit", group_id, document_id, version)
    return hkdf_sha256(doc_key, salt=b"", info=info, length=32)


def _meta_aad(group_id: uuid.UUID, document_id: uuid.UUID, version: int) -> bytes:
    return signing_input("doc-meta", group_id, document_id, version)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Public description of one document version; name and type are encrypted inside it."""

    group_id: uuid.UUID
    document_id: uuid.UUID
    version: int
    category: str
    uploader_device_id: uuid.UUID
    epoch_id: bytes
    ts: int
    segment_size: int
    nonce_prefix: bytes
    key_commitment: bytes
    encrypted_meta: bytes
    signature: bytes = field(default=b"")

    def _fields(self) -> tuple[int | uuid.UUID | str | bytes, ...]:
        return (
            MANIFEST_VERSION,
            self.group_id,
            self.document_id,
            self.version,
            self.category,
            self.uploader_device_id,
            self.epoch_id,
            self.ts,
            self.segment_size,
            self.nonce_prefix,
            self.key_commitment,
            self.encrypted_meta,
        )

    def signed_bytes(self) -> bytes:
        """Bytes the uploader signs (label `manifest`)."""
        return signing_input("manifest", *self._fields())

    def manifest_hash(self) -> bytes:
        """The AAD of every segment, tying content to exactly this manifest."""
        return sha256(self.signed_bytes())

    def to_bytes(self) -> bytes:
        """Serialise for upload next to the ciphertext."""
        return encode(*self._fields(), self.signature)

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse strictly; unknown versions, categories and bad lengths are rejected."""
        f = decode(data)
        if len(f) != 13:
            raise MalformedError(f"manifest has {len(f)} fields, expected 13")
        if f[0] != MANIFEST_VERSION.to_bytes(8, "big"):
            if len(f[0]) == 8:
                raise UnsupportedVersionError(
                    f"manifest version {int.from_bytes(f[0], 'big')} is not supported"
                )
            raise MalformedError("manifest field v is malformed")
        for index, name in ((1, "group_id"), (2, "document_id"), (5, "uploader_device_id")):
            if len(f[index]) != 16:
                raise MalformedError(f"manifest field {name} is not 16 bytes")
        for index, name in ((6, "epoch_id"), (10, "key_commitment")):
            if len(f[index]) != 32:
                raise MalformedError(f"manifest field {name} is not 32 bytes")
        version, ts, seg = fields_to_ints([f[3], f[7], f[8]])
        category = f[4].decode("ascii", "replace")
        if category not in CATEGORIES:
            raise MalformedError(f"manifest category {category!r} is not a known category")
        if not MIN_SEGMENT <= seg <= MAX_SEGMENT:
            raise MalformedError(f"manifest segment_size {seg} is out of range")
        if len(f[9]) != NONCE_PREFIX_LEN:
            raise MalformedError("manifest field nonce_prefix is not 7 bytes")
        if len(f[12]) != 64:
            raise MalformedError("manifest signature is not 64 bytes")
        return cls(
            uuid.UUID(bytes=f[1]),
            uuid.UUID(bytes=f[2]),
            version,
            category,
            uuid.UUID(bytes=f[5]),
            f[6],
            ts,
            seg,
            f[9],
            f[10],
            f[11],
            f[12],
        )


def create_manifest(
    *,
    doc_key: bytes,
    signing_key: Ed25519PrivateKey,
    group_id: uuid.UUID,
    document_id: uuid.UUID,
    version: int,
    uploader_device_id: uuid.UUID,
    ts: int,
    name: str,
    media_type: str,
    category: str = "other",
    epoch_id: bytes = NO_EPOCH,
    segment_size: int = DEFAULT_SEGMENT,
    nonce_prefix: bytes | None = None,
) -> Manifest:
    """Encrypt the name and type and sign the manifest as the uploading device.

    `epoch_id` is the uploader's verified log head: readers check that the uploading device
    belonged to a coordinator there (a manifest naming no known head is refused)."""
    if not MIN_SEGMENT <= segment_size <= MAX_SEGMENT:
        raise ValueError("segment_size must be between 64 KiB and 1 MiB")
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
    prefix = nonce_prefix if nonce_prefix is not None else os.urandom(NONCE_PREFIX_LEN)
    meta = AESGCM(_subkey(doc_key, "doc-meta")).encrypt(
        _ZERO_NONCE, encode(name, media_type), _meta_aad(group_id, document_id, version)
    )
    unsigned = Manifest(
        group_id,
        document_id,
        version,
        category,
        uploader_device_id,
        epoch_id,
        ts,
        segment_size,
        prefix,
        key_commitment(doc_key, group_id, document_id, version),
        meta,
    )
    return dataclasses.replace(unsigned, signature=signing_key.sign(unsigned.signed_bytes()))


def verify_manifest(manifest: Manifest, uploader_signing_key: bytes) -> None:
    """Accept a manifest only if the uploading roster device signed it."""
    verify_sig(uploader_signing_key, manifest.signature, manifest.signed_bytes(), what="manifest")


def check_key_commitment(manifest: Manifest, doc_key: bytes) -> None:
    """Refuse a document key that is not the one the signed manifest commits to."""
    expected = key_commitment(doc_key, manifest.group_id, manifest.document_id, manifest.version)
    if not hmac.compare_digest(expected, manifest.key_commitment):
        raise DecryptionError(
            f"the key for document {manifest.document_id} version {manifest.version} "
            "is not the one its signed manifest commits to"
        )


def decrypt_metadata(manifest: Manifest, doc_key: bytes) -> tuple[str, str]:
    """Recover (name, media type) from a verified manifest."""
    try:
        raw = AESGCM(_subkey(doc_key, "doc-meta")).decrypt(
            _ZERO_NONCE,
            manifest.encrypted_meta,
            _meta_aad(manifest.group_id, manifest.document_id, manifest.version),
        )
        name, media_type = decode(raw)
        return name.decode("utf-8"), media_type.decode("utf-8")
    except (InvalidTag, ValueError, MalformedError):
        raise DecryptionError("document metadata could not be decrypted") from None


class _Stream:
    """Shared STREAM state: one AEAD, a nonce prefix, a counter and a buffer."""

    def __init__(self, doc_key: bytes, manifest: Manifest) -> None:
        self._aead = AESGCM(_subkey(doc_key, "stream"))
        self._prefix = manifest.nonce_prefix
        self._aad = manifest.manifest_hash()
        self._seg = manifest.segment_size
        self._counter = 0
        self._buf = bytearray()
        self._done = False

    def _nonce(self, last: bool) -> bytes:
        if self._counter >= 1 << 32:
            raise ValueError("document has too many segments")
        return self._prefix + self._counter.to_bytes(4, "big") + (b"\x01" if last else b"\x00")

    def _check_open(self) -> None:
        if self._done:
            raise ValueError("stream already finalised")


class StreamEncryptor(_Stream):
    """Encrypt a document incrementally; memory stays at about one segment."""

    def update(self, data: bytes) -> bytes:
        """Absorb plaintext and return every segment that is certainly not the last."""
        self._check_open()
        self._buf += data
        out = bytearray()
        while len(self._buf) > self._seg:
            chunk = bytes(self._buf[: self._seg])
            del self._buf[: self._seg]
            out += self._aead.encrypt(self._nonce(False), chunk, self._aad)
            self._counter += 1
        return bytes(out)

    def finalize(self) -> bytes:
        """Emit the final segment (possibly empty) with the last-flag set."""
        self._check_open()
        self._done = True
        return self._aead.encrypt(self._nonce(True), bytes(self._buf), self._aad)


class StreamDecryptor(_Stream):
    """Decrypt incrementally; output is provisional until `finalize` succeeds."""

    def update(self, data: bytes) -> bytes:
        """Absorb ciphertext and return plaintext of segments that are followed by more data."""
        self._check_open()
        self._buf += data
        size = self._seg + TAG
        out = bytearray()
        while len(self._buf) > size:
            chunk = bytes(self._buf[:size])
            try:
                out += self._aead.decrypt(self._nonce(False), chunk, self._aad)
            except InvalidTag:
                self._done = True
                raise DecryptionError(
                    f"document segment {self._counter} failed authentication"
                ) from None
            del self._buf[:size]
            self._counter += 1
        return bytes(out)

    def finalize(self) -> bytes:
        """Open the final segment; a missing final segment is reported as truncation."""
        self._check_open()
        self._done = True
        chunk = bytes(self._buf)
        if not chunk:
            raise TruncatedError("document is truncated: no segments")
        try:
            return self._aead.decrypt(self._nonce(True), chunk, self._aad)
        except InvalidTag:
            pass
        try:
            self._aead.decrypt(self._nonce(False), chunk, self._aad)
        except InvalidTag:
            raise DecryptionError(
                f"document segment {self._counter} failed authentication"
            ) from None
        raise TruncatedError("document is truncated: the final segment is missing")


def encrypt_document(doc_key: bytes, manifest: Manifest, data: bytes) -> bytes:
    """One-shot convenience over StreamEncryptor."""
    enc = StreamEncryptor(doc_key, manifest)
    return enc.update(data) + enc.finalize()


def decrypt_document(doc_key: bytes, manifest: Manifest, data: bytes) -> bytes:
    """One-shot convenience over StreamDecryptor."""
    dec = StreamDecryptor(doc_key, manifest)
    return dec.update(data) + dec.finalize()
