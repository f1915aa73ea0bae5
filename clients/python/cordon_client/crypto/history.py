"""Key records for documents, library grants and device-to-device history (PROTOCOL.md §9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from cordon_client.crypto._encoding import decode, encode, fields_to_ints
from cordon_client.crypto.ratchet import ReceiverChain
from cordon_client.exceptions import MalformedError


def _fields(data: bytes, what: str) -> list[bytes]:
    """The canonical fields of `data`, or a MalformedError naming what was being parsed."""
    try:
        return decode(data)
    except MalformedError as exc:
        raise MalformedError(f"{what} is malformed: {exc.reason}") from None


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
        f = _fields(data, "document key record")
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


HISTORY_GRANT_VERSION = 2
GRANT_SCOPES = ("cases", "prenotifications")
MAX_GRANT_ITEMS = 10_000
BROADCAST_ITEM_KEY = 44  # AES-256 key ‖ 12-byte nonce of one broadcast message
TARGETED_ITEM_KEY = 32  # the content key of one targeted envelope
STATUS_EVENT_KEY = 0  # a signed pre-notification status event: public, bound by its hash


@dataclass(frozen=True, slots=True)
class GrantedItem:
    """One earlier item a late joiner may open: where the original envelope is, which one it
    is (its hash), and the key that opens it. The original sender's signature is verified
    against the log, so the granting coordinator cannot alter the content."""

    seq: int
    sender_device_id: uuid.UUID
    message_id: uuid.UUID
    envelope_hash: bytes
    item_key: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        return encode(
            self.seq, self.sender_device_id, self.message_id, self.envelope_hash, self.item_key
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> GrantedItem:
        f = _fields(data, "history grant item")
        if len(f) != 5 or len(f[1]) != 16 or len(f[2]) != 16 or len(f[3]) != 32:
            raise MalformedError("history grant item is malformed")
        if len(f[4]) not in (BROADCAST_ITEM_KEY, TARGETED_ITEM_KEY, STATUS_EVENT_KEY):
            raise MalformedError(f"history grant item key is {len(f[4])} bytes, not 44, 32 or 0")
        seq = fields_to_ints([f[0]])[0]
        return cls(seq, uuid.UUID(bytes=f[1]), uuid.UUID(bytes=f[2]), f[3], f[4])


@dataclass(frozen=True, slots=True)
class HistoryGrant:
    """Content of a HISTORY_GRANT envelope (PROTOCOL.md §9): earlier items of one scope for
    one member, sent by a coordinator's device after `grant_history(member, scope)`."""

    member_id: uuid.UUID
    scope: str
    items: tuple[GrantedItem, ...] = field(repr=False)

    def to_bytes(self) -> bytes:
        if len(self.items) > MAX_GRANT_ITEMS:
            raise ValueError(f"a history grant carries at most {MAX_GRANT_ITEMS} items")
        return encode(
            HISTORY_GRANT_VERSION,
            self.member_id,
            self.scope,
            encode(*(i.to_bytes() for i in self.items)),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> HistoryGrant:
        """Parse strictly: version, member id, a known scope, at most 10,000 distinct seqs."""
        f = _fields(data, "history grant")
        if len(f) != 4 or len(f[0]) != 8 or len(f[1]) != 16:
            raise MalformedError("history grant is malformed")
        version = fields_to_ints([f[0]])[0]
        if version != HISTORY_GRANT_VERSION:
            raise MalformedError(f"history grant version {version} is not supported")
        scope = f[2].decode("ascii", "replace")
        if scope not in GRANT_SCOPES:
            raise MalformedError(
                f"history grant scope {scope!r} is not one of cases, prenotifications"
            )
        raw_items = _fields(f[3], "history grant item list")
        if len(raw_items) > MAX_GRANT_ITEMS:
            raise MalformedError(f"history grant carries more than {MAX_GRANT_ITEMS} items")
        items = tuple(GrantedItem.from_bytes(i) for i in raw_items)
        if len({i.seq for i in items}) != len(items):
            raise MalformedError("history grant names one item twice")
        return cls(uuid.UUID(bytes=f[1]), scope, items)
