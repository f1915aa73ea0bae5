"""Earlier stream items for a member the signed log grants history (PROTOCOL.md §9).

Sync serves a member only what was posted after they joined, and targeted items only to
their recipients. A coordinator may grant a late joiner (a replacement officer) the
operation's earlier cases or pre-notifications with a `grant_history(member, scope)` log
entry; from then this member may fetch the ORIGINAL envelopes of that scope by seq, to open
them with the per-item keys the coordinator sends end to end (HISTORY_GRANT). Without the
logged grant the answer is 403 `library.history_not_granted`: the server's copy of the log
is the same one every client verifies, so it cannot grant more than clients accept.
"""

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.keys.models import GroupLogEntry
from app.library.exceptions import HistoryNotGranted
from app.messages import service as messages_service
from app.messages.models import MessageKind, StreamItem

HISTORY_SCOPES = ("cases", "prenotifications")
MAX_ITEMS = 500


def _in_scope(scope: str) -> Any:
    """Which stream items a scope covers: broadcast cases and their threads, or every
    pre-notification envelope and status event."""
    if scope == "cases":
        return and_(
            StreamItem.recipients.is_(None),
            or_(
                StreamItem.kind == MessageKind.ALERT.value,
                and_(StreamItem.kind == MessageKind.CHAT.value, StreamItem.parent_seq.is_not(None)),
            ),
        )
    return StreamItem.kind.in_(
        [MessageKind.PRENOTIFICATION.value, MessageKind.PRENOTIFICATION_EVENT.value]
    )


async def granted(
    session: AsyncSession, *, group_id: uuid.UUID, user_id: uuid.UUID, scope: str
) -> bool:
    """True if the group's log holds `grant_history(user_id, scope)`."""
    rows = await session.scalars(
        select(GroupLogEntry.entry_json).where(
            GroupLogEntry.group_id == group_id, GroupLogEntry.op == "grant_history"
        )
    )
    for raw in rows:
        body = json.loads(raw).get("body", {})
        if body.get("member_id") == str(user_id) and body.get("scope") == scope:
            return True
    return False


async def get_items(
    session: AsyncSession,
    *,
    group_id: uuid.UUID,
    user_id: uuid.UUID,
    scope: str,
    seqs: Sequence[int],
) -> list[dict[str, Any]]:
    """The requested items of the scope, rendered as sync renders them (others are left out)."""
    if not await granted(session, group_id=group_id, user_id=user_id, scope=scope):
        raise HistoryNotGranted(f"The log holds no {scope} history grant for you.")
    rows = await session.execute(
        select(*messages_service.ITEM_COLUMNS)
        .where(StreamItem.group_id == group_id, StreamItem.seq.in_(list(seqs)), _in_scope(scope))
        .order_by(StreamItem.seq)
    )
    return [messages_service.render(row) for row in rows]
