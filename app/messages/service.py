"""Appending to, reading from and acknowledging items of the group streams.

Every group has one durable stream; `seq` is gap-free per group because it is taken from the
group's `group_stream` row, whose lock is held until commit, so appends to one group commit in
seq order and a reader that saw seq N has seen every seq below it. Realtime pushes are queued
with `realtime.publish` and go out only after the commit.
"""

import base64
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Integer, Row, Table, and_, bindparam, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app import realtime
from app.core.encoding import json_bytes
from app.core.types import utcnow
from app.groups.exceptions import GroupNotFound
from app.groups.models import Membership
from app.messages.exceptions import (
    CursorOutOfRange,
    MessageNotFound,
)
from app.messages.models import GroupStream, MessageKind, Receipt, StreamItem

# What readers see of an item: every column but the surrogate key. Catch-up selects these
# columns instead of ORM entities (ORM materialisation led its profile).
ITEM_COLUMNS = (
    StreamItem.group_id,
    StreamItem.seq,
    StreamItem.kind,
    StreamItem.sender_user_id,
    StreamItem.sender_device_id,
    StreamItem.recipients,
    StreamItem.client_msg_id,
    StreamItem.parent_seq,
    StreamItem.urgent,
    StreamItem.created_at,
    StreamItem.envelope,
)
ItemRow = Row[*tuple[Any, ...]]  # a row of ITEM_COLUMNS


class Appended(NamedTuple):
    """An item as `append_many` wrote it: a plain tuple, not an ORM entity, since the group
    commit builds hundreds at a time and entity bookkeeping cost more than the INSERT."""

    id: uuid.UUID
    group_id: uuid.UUID
    seq: int
    kind: str
    sender_user_id: uuid.UUID | None
    sender_device_id: uuid.UUID | None
    recipients: list[str] | None
    client_msg_id: str | None
    parent_seq: int | None
    urgent: bool
    created_at: datetime
    envelope: bytes


StoredItem = StreamItem | ItemRow | Appended
_STREAM_TABLE = cast(Table, StreamItem.__table__)
_HEAD_TABLE = cast(Table, GroupStream.__table__)  # Core upsert: not the ORM bulk path


def routing(item: StoredItem) -> realtime.Routing:
    """The routing metadata the read and delivery rules look at."""
    return realtime.Routing(
        group_id=item.group_id,
        seq=item.seq,
        created_at=item.created_at,
        sender_user_id=item.sender_user_id,
        recipients=frozenset(uuid.UUID(d) for d in item.recipients)
        if item.recipients is not None
        else None,
        receipt_device_id=item.sender_device_id if item.kind == MessageKind.RECEIPT else None,
    )


def render(item: StoredItem) -> dict[str, Any]:
    """The body of `MessageRead` for one item, for `json_bytes`, built without the model:
    catch-up renders thousands per second, and validating then dumping a model per item
    doubled that cost. tests/messages/test_render.py holds the JSON equal to the model's."""
    return {
        "group_id": item.group_id,
        "seq": item.seq,
        "kind": item.kind,
        "sender_user_id": item.sender_user_id,
        "sender_device_id": item.sender_device_id,
        "recipients": item.recipients,
        "client_msg_id": item.client_msg_id,
        "parent_seq": item.parent_seq,
        "urgent": item.urgent,
        "created_at": item.created_at,
        "envelope": base64.b64encode(item.envelope).decode(),
    }


def frame(item: StoredItem) -> str:
    """The websocket text frame of an item: its `MessageRead` body plus `"type": "item"`."""
    return json_bytes({"type": "item", **render(item)}).decode()


def _head_upsert(insert: Any) -> Any:
    """Add :count to the group's head, creating the row if needed; returns the new head."""
    count = bindparam("count", type_=Integer)
    return (
        insert(_HEAD_TABLE)
        .values(group_id=bindparam("group_id"), head_seq=count)
        .on_conflict_do_update(
            index_elements=[_HEAD_TABLE.c.group_id],
            set_={"head_seq": _HEAD_TABLE.c.head_seq + count},
        )
        .returning(_HEAD_TABLE.c.head_seq)
    )


# Built once per dialect: the upsert runs on every post, and a statement object keeps its
# SQLAlchemy cache key instead of having it worked out per execution.
_HEAD_UPSERTS = {
    "postgresql": _head_upsert(postgresql.insert),
    "sqlite": _head_upsert(sqlite.insert),
}
_INSERT_ITEMS = insert(_STREAM_TABLE)  # Core INSERT: no ORM bookkeeping per row


async def _bump_head(session: AsyncSession, *, group_id: uuid.UUID, count: int) -> int:
    """Add `count` to the group's head and return the new head, creating the row if needed.
    The statement takes the row lock (PostgreSQL) or the write lock (SQLite) until commit."""
    statement = _HEAD_UPSERTS[session.get_bind().dialect.name]
    head = (await session.execute(statement, {"group_id": group_id, "count": count})).scalar_one()
    return int(head)


async def lock_stream(session: AsyncSession, *, group_id: uuid.UUID) -> int:
    """Serialise with every other writer of this group's stream; returns the current head."""
    return await _bump_head(session, group_id=group_id, count=0)


async def reserve(session: AsyncSession, *, group_id: uuid.UUID, count: int) -> int:
    """Reserve `count` consecutive seqs (and lock the stream, like `lock_stream`); returns the
    first."""
    return await _bump_head(session, group_id=group_id, count=count) - count + 1


async def release(session: AsyncSession, *, group_id: uuid.UUID, count: int) -> None:
    """Give back the last `count` seqs this transaction reserved and did not use, so the
    stream stays gap-free (the lock `reserve` took is still held, so they are the last)."""
    await _bump_head(session, group_id=group_id, count=-count)


@dataclass(frozen=True)
class NewItem:
    """What a writer appends: routing metadata and the opaque envelope."""

    kind: MessageKind
    envelope: bytes
    sender_user_id: uuid.UUID | None = None
    sender_device_id: uuid.UUID | None = None
    recipients: Sequence[uuid.UUID] | None = None
    client_msg_id: str | None = None
    parent_seq: int | None = None
    urgent: bool = False


async def append(
    session: AsyncSession,
    *,
    group_id: uuid.UUID,
    kind: MessageKind,
    envelope: bytes,
    sender_user_id: uuid.UUID | None = None,
    sender_device_id: uuid.UUID | None = None,
    recipients: Sequence[uuid.UUID] | None = None,
    client_msg_id: str | None = None,
    parent_seq: int | None = None,
    urgent: bool = False,
) -> Appended:
    """Append one item to a group's stream inside the caller's transaction.

    The entry point for other domains (library, pre-notifications, ...): call it, then commit
    your own transaction; the item is pushed to every device that may read it only after
    that commit, and vanishes with a rollback. Routing only: `envelope` is opaque bytes
    (ciphertext, or JSON for server-written kinds); `recipients=None` means the whole group,
    a list of device ids targets those devices (plus the sender's own devices). The caller
    has already checked that the sender may post.
    """
    new = NewItem(
        kind=kind,
        envelope=envelope,
        sender_user_id=sender_user_id,
        sender_device_id=sender_device_id,
        recipients=recipients,
        client_msg_id=client_msg_id,
        parent_seq=parent_seq,
        urgent=urgent,
    )
    (item,) = await append_many(session, group_id=group_id, items=[new])
    return item


async def append_many(
    session: AsyncSession, *, group_id: uuid.UUID, items: Sequence[NewItem]
) -> list[Appended]:
    """Append items with consecutive seqs in one multi-row INSERT (the group commit appends
    hundreds at once, and the ORM's unit of work cost a sixth of a post). Same contract as
    `append`."""
    first = await reserve(session, group_id=group_id, count=len(items))
    return await append_reserved(session, group_id=group_id, first=first, items=items)


async def append_reserved(
    session: AsyncSession, *, group_id: uuid.UUID, first: int, items: Sequence[NewItem]
) -> list[Appended]:
    """`append_many` for a writer that already reserved seqs `first`.. with `reserve` in
    this transaction (the group commit reserves before it knows which posts are replays)."""
    now = utcnow()
    stored = [
        Appended(
            id=uuid.uuid4(),
            group_id=group_id,
            seq=first + offset,
            kind=new.kind.value,
            sender_user_id=new.sender_user_id,
            sender_device_id=new.sender_device_id,
            recipients=[str(d) for d in new.recipients] if new.recipients is not None else None,
            client_msg_id=new.client_msg_id,
            parent_seq=new.parent_seq,
            urgent=new.urgent,
            envelope=new.envelope,
            created_at=now,
        )
        for offset, new in enumerate(items)
    ]
    await session.execute(_INSERT_ITEMS, [item._asdict() for item in stored])
    realtime.publish(
        session,
        *(realtime.ItemPublished(routing=routing(item), frame=frame(item)) for item in stored),
    )
    return stored


# Built once, like the posting path's statements: every socket that connects runs both, and a
# reconnect storm after a deploy runs them thousands of times a second.
_LIVE_MEMBERSHIPS = select(Membership.group_id, Membership.added_at).where(
    Membership.user_id == bindparam("user_id"), Membership.removed_at.is_(None)
)
_HEADS = select(GroupStream.group_id, GroupStream.head_seq).where(
    GroupStream.group_id.in_(bindparam("group_ids", expanding=True))
)


async def viewer_for(
    session: AsyncSession, *, user_id: uuid.UUID, device_id: uuid.UUID
) -> realtime.Viewer:
    """The device as a reader: its user's live memberships and when each started."""
    rows = await session.execute(_LIVE_MEMBERSHIPS, {"user_id": user_id})
    return realtime.Viewer(
        user_id=user_id, device_id=device_id, groups={row[0]: row[1] for row in rows}
    )


async def heads(session: AsyncSession, *, group_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The last seq of each group's stream (0 for a group that has none yet)."""
    ids = list(group_ids)
    result = dict.fromkeys(ids, 0)
    if ids:
        rows = await session.execute(_HEADS, {"group_ids": ids})
        result.update({row[0]: row[1] for row in rows})
    return result


@dataclass
class SyncResult:
    """Readable items, the positions after everything scanned, and whether more wait."""

    items: list[ItemRow]
    positions: dict[uuid.UUID, int]
    more: bool


async def sync(
    session: AsyncSession,
    *,
    viewer: realtime.Viewer,
    positions: Mapping[uuid.UUID, int],
    limit: int,
    group_id: uuid.UUID | None = None,
) -> SyncResult:
    """Everything delivered to the device after `positions`, in seq order per group.

    Groups are drained one after the other (by id), so each page takes a prefix of each
    group's remaining stream and the returned positions never skip an unseen item. Items not
    delivered to the device (`realtime.delivers`: unreadable ones, and the receipts this very
    device signed) are passed over, and the positions still advance past them.

    Paging: `limit` bounds the items SCANNED, not the items returned. A page whose scanned
    rows were all passed over (say 500 of the device's own receipts after reading a
    backlog) comes back with no items, positions moved to the last row scanned and
    `more=True`; the next call starts after those rows, so it neither re-reads them nor
    loops. Only `more` says whether to continue: an empty or short page is not "caught up".
    With fewer rows than `limit`, every pending group was read to its head, so the positions
    jump to the heads (past trailing items passed over as well) and `more=False`.
    """
    if group_id is not None and group_id not in viewer.groups:
        raise GroupNotFound()
    scope = [group_id] if group_id is not None else sorted(viewer.groups)
    known = {g: p for g, p in positions.items() if g in viewer.groups}
    current = await heads(session, group_ids=scope)
    if any(known.get(g, 0) > current[g] for g in scope):
        raise CursorOutOfRange("The cursor points past the end of a group's stream.")
    pending = [g for g in scope if known.get(g, 0) < current[g]]
    if not pending:
        return SyncResult(items=[], positions=known, more=False)
    condition = or_(
        *(
            and_(
                StreamItem.group_id == g,
                StreamItem.seq > known.get(g, 0),
                StreamItem.created_at >= viewer.groups[g],
            )
            for g in pending
        )
    )
    rows = list(
        await session.execute(
            select(*ITEM_COLUMNS)
            .where(condition)
            .order_by(StreamItem.group_id, StreamItem.seq)
            .limit(limit)
        )
    )
    new_positions = dict(known)
    for row in rows:
        new_positions[row.group_id] = row.seq
    if len(rows) < limit:  # every pending group was drained up to its head
        for g in pending:
            new_positions[g] = max(new_positions.get(g, 0), current[g])
    delivered = [row for row in rows if realtime.delivers(viewer, routing(row))]
    return SyncResult(items=delivered, positions=new_positions, more=len(rows) == limit)


async def get(
    session: AsyncSession, *, viewer: realtime.Viewer, group_id: uuid.UUID, seq: int
) -> StreamItem:
    """One item, if this device may read it (otherwise indistinguishable from absent)."""
    item = await session.scalar(
        select(StreamItem).where(StreamItem.group_id == group_id, StreamItem.seq == seq)
    )
    if item is None or not realtime.can_read(viewer, routing(item)):
        raise MessageNotFound()
    return item


async def get_receipts(
    session: AsyncSession, *, viewer: realtime.Viewer, group_id: uuid.UUID, seq: int
) -> list[Receipt]:
    """Who received and read an item; only its sender's user may ask."""
    item = await get(session, viewer=viewer, group_id=group_id, seq=seq)
    if item.sender_user_id != viewer.user_id:
        raise MessageNotFound()
    rows = await session.scalars(
        select(Receipt)
        .where(Receipt.group_id == group_id, Receipt.seq == seq)
        .order_by(Receipt.delivered_at)
    )
    return list(rows)
