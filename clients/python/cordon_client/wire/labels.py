"""Content types and the signed label section of an envelope header (PROTOCOL.md §5.2)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from cordon_client.wire.encoding import Reader, WireFormatError

# ---- §5.2 signed labels -----------------------------------------------------------------


class ContentType(IntEnum):
    """Envelope content types (PROTOCOL.md §5.1); key-carrying types go only TARGETED."""

    MESSAGE = 1
    ALERT = 2
    PRENOTIFICATION = 3
    SENDER_KEY = 4
    DOCUMENT_KEY = 5
    LIBRARY_GRANT = 6
    HISTORY_TRANSFER = 7
    KEY_REQUEST = 8
    HISTORY_GRANT = 9


CONTENT_NAMES = {
    1: "message",
    2: "alert",
    3: "prenotification",
    4: "sender_key",
    5: "document_key",
    6: "library_grant",
    7: "history_transfer",
    8: "key_request",
    9: "history_grant",
}
BROADCAST_TYPES = frozenset({ContentType.MESSAGE, ContentType.ALERT})

TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF, TAG_ROLES, TAG_CATEGORY = 1, 2, 3, 4, 5
ROLE_DESTINATION, ROLE_TRANSIT = 1, 2
ROLE_NAMES = {ROLE_DESTINATION: "destination", ROLE_TRANSIT: "transit"}
_TAG_NAMES = {1: "urgent", 2: "reply_to", 3: "review_of", 4: "roles", 5: "category"}
# Which labels each content type may carry; anything else is refused.
LABELS_ALLOWED: dict[int, frozenset[int]] = {
    ContentType.MESSAGE: frozenset({TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF}),
    ContentType.ALERT: frozenset({TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF}),
    ContentType.PRENOTIFICATION: frozenset({TAG_URGENT, TAG_REPLY_TO, TAG_ROLES}),
    ContentType.DOCUMENT_KEY: frozenset({TAG_CATEGORY}),
}


class MessageRef(NamedTuple):
    """A stream item named as its sender knows it, before the server assigns a seq."""

    sender_device_id: uuid.UUID
    message_id: uuid.UUID

    def to_bytes(self) -> bytes:
        """`sender_device_id (16) ‖ message_id (16)`."""
        return self.sender_device_id.bytes + self.message_id.bytes


@dataclass(frozen=True, slots=True)
class Labels:
    """What a user sees beside the content, signed with it (PROTOCOL.md §5.2)."""

    urgent: bool = False
    reply_to: MessageRef | None = None
    review_of: MessageRef | None = None
    roles: tuple[tuple[uuid.UUID, int], ...] = ()
    category: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", tuple(sorted(self.roles, key=lambda r: r[0].bytes)))

    @property
    def target(self) -> MessageRef | None:
        """The item this one threads under (reply or review), if any."""
        return self.reply_to or self.review_of


NO_LABELS = Labels()


def encode_labels(labels: Labels, content_type: int) -> bytes:
    """TLV entries `u8 tag ‖ u16be len ‖ value` in ascending tag order (the label section)."""
    entries: list[tuple[int, bytes]] = []
    if labels.urgent:
        entries.append((TAG_URGENT, b""))
    if labels.reply_to is not None:
        entries.append((TAG_REPLY_TO, labels.reply_to.to_bytes()))
    if labels.review_of is not None:
        entries.append((TAG_REVIEW_OF, labels.review_of.to_bytes()))
    if labels.roles:
        value = b"".join(u.bytes + bytes([role]) for u, role in labels.roles)
        entries.append((TAG_ROLES, value))
    if labels.category is not None:
        entries.append((TAG_CATEGORY, labels.category.encode("ascii")))
    raw = b"".join(bytes([tag]) + len(v).to_bytes(2, "big") + v for tag, v in entries)
    decode_labels(raw, content_type)  # one definition of valid, for building and parsing
    return raw


def _role_entries(value: bytes) -> tuple[tuple[uuid.UUID, int], ...]:
    if not value or len(value) % 17:
        raise WireFormatError("labels.roles: must be 17-byte (user_id, role) entries")
    roles = [(uuid.UUID(bytes=value[i : i + 16]), value[i + 16]) for i in range(0, len(value), 17)]
    ids = [u.bytes for u, _ in roles]
    if ids != sorted(set(ids)):
        raise WireFormatError("labels.roles: user ids must be strictly ascending")
    if any(role not in ROLE_NAMES for _, role in roles):
        raise WireFormatError("labels.roles: unknown role code")
    return tuple(roles)


def _category(value: bytes) -> str:
    if not 1 <= len(value) <= 64 or not all(0x21 <= b <= 0x7E for b in value):
        raise WireFormatError("labels.category: 1..64 printable ASCII bytes")
    return value.decode("ascii")


def decode_labels(raw: bytes, content_type: int) -> Labels:
    """Parse and check a label section against what `content_type` may carry."""
    reader = Reader(raw)
    found: dict[int, bytes] = {}
    last = 0
    while not reader.done():
        tag = reader.u8()
        value = reader.var(2)
        if tag not in _TAG_NAMES:
            raise WireFormatError(f"labels: unknown tag {tag}")
        if tag <= last:
            raise WireFormatError("labels: tags must be strictly ascending")
        if tag not in LABELS_ALLOWED.get(content_type, frozenset()):
            name = CONTENT_NAMES.get(content_type, str(content_type))
            raise WireFormatError(f"labels.{_TAG_NAMES[tag]}: not allowed on {name} content")
        last = tag
        found[tag] = value
    if TAG_URGENT in found and found[TAG_URGENT]:
        raise WireFormatError("labels.urgent: must be empty")
    refs: dict[int, MessageRef] = {}
    for tag in (TAG_REPLY_TO, TAG_REVIEW_OF):
        if tag in found:
            value = found[tag]
            if len(value) != 32:
                raise WireFormatError(f"labels.{_TAG_NAMES[tag]}: must be 32 bytes")
            refs[tag] = MessageRef(uuid.UUID(bytes=value[:16]), uuid.UUID(bytes=value[16:]))
    if len(refs) == 2:
        raise WireFormatError("labels: an item is a reply or a review, not both")
    return Labels(
        urgent=TAG_URGENT in found,
        reply_to=refs.get(TAG_REPLY_TO),
        review_of=refs.get(TAG_REVIEW_OF),
        roles=_role_entries(found[TAG_ROLES]) if TAG_ROLES in found else (),
        category=_category(found[TAG_CATEGORY]) if TAG_CATEGORY in found else None,
    )
