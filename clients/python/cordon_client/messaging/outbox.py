"""What this device sent, kept so its own items read back as sent by you.

A device cannot decrypt its own envelopes (PROTOCOL §6: a sender chain is not held by its
sender's receiving side, and a targeted envelope is not sealed to the sending device). So
`send` keeps the content beside the hash of the exact envelope posted; when sync returns
that envelope at that seq, the item is shown with this text. A different envelope claimed to
be ours finds no match and is shown without content.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cordon_client.account.state import LocalState as ClientState

OUTBOX = "outbox"
OUTBOX_LIMIT = 2_000  # newest kept: enough for a day's traffic of one officer, bounded


@dataclass(frozen=True, slots=True)
class Sent:
    """One item this device posted, as it posted it."""

    content: bytes
    sent_at: datetime


def _key(group_id: uuid.UUID, seq: int) -> str:
    return f"{group_id}:{seq}"


def _load(state: ClientState) -> dict[str, Any]:
    raw = state.secret(OUTBOX)
    return json.loads(raw) if raw else {}


def keep(
    state: ClientState,
    group_id: uuid.UUID,
    seq: int,
    envelope: bytes,
    content: bytes,
    sent_ms: int,
) -> None:
    """Remember what was posted at `seq` (oldest entries dropped past the limit)."""
    kept = _load(state)
    kept[_key(group_id, seq)] = {
        "sha256": hashlib.sha256(envelope).hexdigest(),
        "content": base64.b64encode(content).decode(),
        "sent_ms": sent_ms,
    }
    for old in list(kept)[: max(0, len(kept) - OUTBOX_LIMIT)]:
        del kept[old]
    state.set_secret(OUTBOX, json.dumps(kept).encode())


def find(state: ClientState, group_id: uuid.UUID, seq: int, envelope: bytes) -> Sent | None:
    """The content this device posted as exactly `envelope` at `seq`, if it kept it."""
    entry = _load(state).get(_key(group_id, seq))
    if entry is None or entry["sha256"] != hashlib.sha256(envelope).hexdigest():
        return None
    return Sent(
        base64.b64decode(entry["content"]),
        datetime.fromtimestamp(entry["sent_ms"] / 1000, UTC),
    )
