"""Key records for documents, library grants and device-to-device history (PROTOCOL.md §9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from cordon_client._crypto._encoding import decode, encode, fields_to_ints
from cordon_client._crypto.ratchet import ReceiverChain
from cordon_client.exceptions import MalformedError


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """The key of one document version, bound to the manifest it decrypts."""

    document_id: uuid.UUID
    version: int
    key: bytes = field(repr=False)
    manifest_hash: bytes

    def to_bytes(self) -> bytes:
        """Content of a DOCUMENT_KEY message and one item of a grant or transfer."""
        return encode(self.document_id, self.version, self.key, self.manifest_hash)

    @classmethod
    def from_bytes(cls, data: bytes) -> DocumentKey:
        """Parse strictly."""
        f = decode(data)
        if len(f) != 4 or len(f[0]) != 16 or len(f[2]) != 32 or len(f[3]) != 32:
            raise MalformedError("document key record is malformed")
        return cls(uuid.UUID(bytes=f[0]), fields_to_ints([f[1]])[0], f[2], f[3])


def encode_document_keys(keys: list[DocumentKey]) -> bytes:
    """Content of a LIBRARY_GRANT message: the granted document keys."""
    return encode(*(k.to_bytes() for k in keys))


def decode_document_keys(data: bytes) -> list[DocumentKey]:
    """Parse a LIBRARY_GRANT content."""
    return [DocumentKey.from_bytes(item) for item in decode(data)]


@dataclass(slots=True)
class HistoryBundle:
    """What one of a member's devices hands to its new device.

    `archive` is the application's own export of already-decrypted messages (opaque here);
    chain states let the new device read broadcasts still in flight; document keys open the library.
    """

    chains: list[ReceiverChain] = field(default_factory=list, repr=False)
    document_keys: list[DocumentKey] = field(default_factory=list, repr=False)
    archive: bytes = field(default=b"", repr=False)

    def to_bytes(self) -> bytes:
        """Content of a HISTORY_TRANSFER message."""
        return encode(
            encode(*(c.to_bytes() for c in self.chains)),
            encode_document_keys(self.document_keys),
            self.archive,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> HistoryBundle:
        """Parse strictly."""
        f = decode(data)
        if len(f) != 3:
            raise MalformedError("history bundle is malformed")
        chains = [ReceiverChain.from_bytes(c) for c in decode(f[0])]
        return cls(chains, decode_document_keys(f[1]), f[2])
