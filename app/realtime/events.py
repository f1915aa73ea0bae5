"""What travels from a committed transaction to the connections: small, serialisable events.

`ItemPublished` carries the item's routing plus the exact text frame to push, so a receiving
process never reads the database on the happy path. `Kick` closes sockets (revoked device or
session, disabled user, removed member, closed or archived group); `Refresh` makes a user's
sockets reload their group list (member added).
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.realtime.hub import Routing

CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_SLOW_CONSUMER = 4008
CLOSE_BAD_FRAME = 4400
CLOSE_ORIGIN = 4403
CLOSE_IDLE = 4408


@dataclass(frozen=True, slots=True)
class ItemPublished:
    """A stream item was committed; `frame` is the JSON text frame devices receive."""

    routing: Routing
    frame: str


@dataclass(frozen=True, slots=True)
class Kick:
    """Close at once (4003) the sockets of a device, of a user, or following a group; a socket
    authenticated with `keep_token_id` stays open (the session that changed the password)."""

    device_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    reason: str = "access revoked"
    group_id: uuid.UUID | None = None
    keep_token_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Refresh:
    """A user's memberships changed: their sockets reload which groups they follow."""

    user_id: uuid.UUID


Event = ItemPublished | Kick | Refresh


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def dumps(event: Event, origin: str) -> str:
    """Serialise an event for the cross-process broker."""
    body: dict[str, Any] = {"o": origin}
    if isinstance(event, ItemPublished):
        r = event.routing
        body |= {
            "t": "item",
            "g": str(r.group_id),
            "s": r.seq,
            "c": r.created_at.isoformat(),
            "u": str(r.sender_user_id) if r.sender_user_id else None,
            "r": sorted(str(d) for d in r.recipients) if r.recipients is not None else None,
            "e": str(r.receipt_device_id) if r.receipt_device_id else None,
            "f": event.frame,
        }
    elif isinstance(event, Kick):
        body |= {
            "t": "kick",
            "d": str(event.device_id) if event.device_id else None,
            "u": str(event.user_id) if event.user_id else None,
            "m": event.reason,
            "g": str(event.group_id) if event.group_id else None,
            "k": str(event.keep_token_id) if event.keep_token_id else None,
        }
    else:
        body |= {"t": "refresh", "u": str(event.user_id)}
    return json.dumps(body, separators=(",", ":"))


def loads(data: str | bytes) -> tuple[str, Event]:
    """Parse what `dumps` wrote; raises ValueError (or KeyError) on anything else."""
    body = json.loads(data)
    kind = body["t"]
    if kind == "item":
        recipients = body["r"]
        routing = Routing(
            group_id=uuid.UUID(body["g"]),
            seq=int(body["s"]),
            created_at=datetime.fromisoformat(body["c"]),
            sender_user_id=_uuid(body["u"]),
            recipients=frozenset(uuid.UUID(d) for d in recipients)
            if recipients is not None
            else None,
            receipt_device_id=_uuid(body.get("e")),  # absent from a not yet upgraded process
        )
        return body["o"], ItemPublished(routing=routing, frame=body["f"])
    if kind == "kick":
        return body["o"], Kick(
            device_id=_uuid(body["d"]),
            user_id=_uuid(body["u"]),
            reason=body["m"],
            group_id=_uuid(body.get("g")),
            keep_token_id=_uuid(body.get("k")),
        )
    if kind == "refresh":
        return body["o"], Refresh(user_id=uuid.UUID(body["u"]))
    raise ValueError(f"unknown event type {kind!r}")
