"""A received stream item as the application sees it, and its keystore form (the inbox)."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Incoming:
    """One item received by sync.

    End-to-end content comes back decrypted with `verified=True`, or with `verified=False` and
    the `error` saying why it was refused. For verified items `kind`, `urgent`, `parent_seq`
    and `review` (the parent is a reviewed case) agree with what the sender signed; a
    `parent_seq` this device cannot read is shown as None. Server events (membership changes,
    receipts, library notices) carry `event`: the server's own JSON, not end-to-end protected.
    `sent_at` is the send time the sender signed in the envelope (`created_at` is the server's
    clock). `own` marks an item this user sent from this device: it comes back with the text
    kept when it was sent (`verified=True`), or without content when none was kept.
    """

    group_id: uuid.UUID
    seq: int
    kind: str
    sender_user_id: uuid.UUID | None
    sender_device_id: uuid.UUID | None
    verified: bool
    content: bytes | None
    error: str | None = None
    urgent: bool = False
    parent_seq: int | None = None
    event: dict[str, Any] | None = None
    created_at: datetime | None = None
    review: bool = False
    sent_at: datetime | None = None
    own: bool = False

    @property
    def text(self) -> str | None:
        """The content as text, for chat and CLI display."""
        return self.content.decode("utf-8", "replace") if self.content is not None else None


def item_meta(item: dict[str, Any]) -> dict[str, Any]:
    """The routing fields of a served stream item (sync page or `item` frame), parsed."""
    created = item.get("created_at")
    return {
        "group_id": uuid.UUID(item["group_id"]),
        "seq": int(item["seq"]),
        "kind": item["kind"],
        "sender_user_id": uuid.UUID(item["sender_user_id"]) if item["sender_user_id"] else None,
        "sender_device_id": (
            uuid.UUID(item["sender_device_id"]) if item["sender_device_id"] else None
        ),
        "urgent": bool(item.get("urgent")),
        "parent_seq": item.get("parent_seq"),
        "created_at": datetime.fromisoformat(created) if isinstance(created, str) else None,
    }


def incoming_json(item: Incoming) -> dict[str, Any]:
    """An `Incoming` as JSON for the keystore's inbox."""
    raw = dataclasses.asdict(item)
    for name in ("group_id", "sender_user_id", "sender_device_id"):
        raw[name] = str(raw[name]) if raw[name] else None
    raw["content"] = base64.b64encode(item.content).decode() if item.content is not None else None
    for name in ("created_at", "sent_at"):
        value = getattr(item, name)
        raw[name] = value.isoformat() if value else None
    return raw


def incoming_from_json(raw: dict[str, Any]) -> Incoming:
    """The inverse of `incoming_json`."""
    values = dict(raw)
    values["group_id"] = uuid.UUID(values["group_id"])
    for name in ("sender_user_id", "sender_device_id"):
        values[name] = uuid.UUID(values[name]) if values[name] else None
    values["content"] = base64.b64decode(values["content"]) if values["content"] else None
    for name in ("created_at", "sent_at"):
        values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
    return Incoming(**values)
