"""Stream cursors: the last seq a device has seen in each group.

A cursor is a position, not a capability: every read re-applies membership and the read rule,
so an edited cursor can only skip or re-read items the device may read anyway. It is checked
strictly all the same (format, and no position beyond a group's head), and clients can build
one from the `group_id`/`seq` of the items they hold.
"""

import base64
import binascii
import json
import uuid
from collections.abc import Mapping

from app.core.body import MalformedJSON, decode_json
from app.core.encoding import b64url
from app.core.schemas import INT_MAX
from app.messages.exceptions import InvalidCursor

PREFIX = "c1."
MAX_LENGTH = 16_384
MAX_DEPTH = 1  # one flat object of group -> seq


def encode(positions: Mapping[uuid.UUID, int]) -> str:
    """A compact, URL-safe cursor."""
    body = json.dumps(
        {g.hex: s for g, s in sorted(positions.items()) if s > 0}, separators=(",", ":")
    )
    return PREFIX + b64url(body.encode())


def decode(cursor: str | None) -> dict[uuid.UUID, int]:
    """Positions from a cursor (empty for none: no parameter, or null in a frame);
    `InvalidCursor` for anything malformed, an empty string included, as on listings. The
    JSON inside goes through the app's one decoder (`app.core.body`), flat objects only."""
    if cursor is None:
        return {}
    if not cursor or len(cursor) > MAX_LENGTH or not cursor.startswith(PREFIX):
        raise InvalidCursor("The cursor is not one this server issues.")
    raw = cursor[len(PREFIX) :]
    try:
        body = decode_json(
            base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), max_depth=MAX_DEPTH
        )
        positions = {uuid.UUID(hex=g): s for g, s in body.items()}
    except (MalformedJSON, binascii.Error, ValueError, TypeError, AttributeError):
        raise InvalidCursor("The cursor is garbled.") from None
    if not all(type(s) is int and 0 <= s <= INT_MAX for s in positions.values()):
        raise InvalidCursor("The cursor holds an invalid position.")
    return positions
