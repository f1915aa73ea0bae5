"""Posting with group commit (`app.messages.group_commit`): concurrent posts share one
transaction and one fsync, and each is answered only after that commit.

Idempotency on (group, sender device, client_msg_id) is checked after taking the group's
stream lock, so it holds across processes; the unique constraint backs it up, and if a batch
fails as a whole its posts are retried one by one so one bad post never fails the others.
"""

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import CordonError
from app.devices.models import Device
from app.groups.models import Membership
from app.messages import envelopes, service
from app.messages.exceptions import (
    ClientMsgIdReused,
    InvalidRecipients,
    ParentNotFound,
    RecipientsRequired,
)
from app.messages.group_commit import GroupCommit
from app.messages.models import TARGETED_KINDS, MessageKind, StreamItem
from app.messages.schemas import MessageCreate


@dataclass(frozen=True)
class Post:
    """An authorised post: the caller already passed the group's posting gate."""

    group_id: uuid.UUID
    user_id: uuid.UUID
    device_id: uuid.UUID
    message_in: MessageCreate


@dataclass
class Posted:
    """The committed item, and whether this call created it (False for an idempotent replay)."""

    item: service.StoredItem
    created: bool


Outcome = Posted | CordonError


def _same_content(item: service.StoredItem, message_in: MessageCreate) -> bool:
    """A replay repeats every field the sender chose, routing included (`urgent` too): any
    difference is a reuse of the id for other content (409), never a silent 200."""
    recipients = [str(d) for d in message_in.recipients] if message_in.recipients else None
    return (
        item.kind == message_in.kind.value
        and item.envelope == message_in.envelope
        and item.recipients == recipients
        and item.parent_seq == message_in.parent_seq
        and item.urgent == message_in.urgent
    )


# The items a batch's posts may replay. All three columns of uq_stream_item_client_msg, so
# the lookup is an index probe (with the group alone it scanned the group's whole stream, and
# posting slowed as it grew); built once, as it runs for every batch.
_STORED = select(*service.ITEM_COLUMNS).where(
    StreamItem.group_id == bindparam("group_id"),
    StreamItem.sender_device_id.in_(bindparam("senders", expanding=True)),
    StreamItem.client_msg_id.in_(bindparam("keys", expanding=True)),
)


async def _member_devices(session: AsyncSession, *, group_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(Device.id)
        .join(Membership, Membership.user_id == Device.user_id)
        .where(
            Membership.group_id == group_id,
            Membership.removed_at.is_(None),
            Device.revoked_at.is_(None),
        )
    )
    return set(rows)


_PARENTS = select(StreamItem.seq, StreamItem.sender_device_id, StreamItem.client_msg_id).where(
    StreamItem.group_id == bindparam("group_id"),
    StreamItem.seq.in_(bindparam("seqs", expanding=True)),
)


async def _stored_parents(
    session: AsyncSession, *, group_id: uuid.UUID, posts: list[tuple[int, Post]], head: int
) -> dict[int, tuple[uuid.UUID | None, str | None]]:
    """(sender device, client_msg_id) of each stored item a post names as its parent."""
    seqs = {
        p.message_in.parent_seq
        for _, p in posts
        if p.message_in.parent_seq is not None and p.message_in.parent_seq <= head
    }
    if not seqs:
        return {}
    rows = await session.execute(_PARENTS, {"group_id": group_id, "seqs": sorted(seqs)})
    return {seq: (device, msg_id) for seq, device, msg_id in rows}


def _parent_problem(
    message_in: MessageCreate,
    *,
    head: int,
    stored: dict[int, tuple[uuid.UUID | None, str | None]],
    accepted: list[tuple[int, Post]],
) -> CordonError | None:
    """ParentNotFound, or a RoutingMismatch if the item at `parent_seq` is not the signed
    target (the parent may be stored or earlier in this batch)."""
    parent_seq = message_in.parent_seq
    if parent_seq is None:
        return None
    if parent_seq > head + len(accepted):
        return ParentNotFound()
    if parent_seq <= head:
        device, msg_id = stored.get(parent_seq, (None, None))
    else:
        earlier = accepted[parent_seq - head - 1][1]
        device, msg_id = earlier.device_id, earlier.message_in.client_msg_id
    return envelopes.check_parent(message_in, sender_device_id=device, client_msg_id=msg_id)


async def _append_group(
    session: AsyncSession, *, group_id: uuid.UUID, posts: list[tuple[int, Post]]
) -> dict[int, Outcome]:
    """Append one group's share of a batch (the caller commits).

    Seqs for the whole share are reserved first, which also takes the stream's lock; the
    ones left over by replays and refusals are released before the insert. One statement
    instead of two for the common case where every post is new."""
    first_seq = await service.reserve(session, group_id=group_id, count=len(posts))
    head = first_seq - 1
    keys = {p.message_in.client_msg_id for _, p in posts}
    senders = {p.device_id for _, p in posts}
    existing: dict[tuple[uuid.UUID | None, str | None], service.StoredItem] = {
        (item.sender_device_id, item.client_msg_id): item
        for item in await session.execute(
            _STORED, {"group_id": group_id, "senders": list(senders), "keys": list(keys)}
        )
    }
    parents = await _stored_parents(session, group_id=group_id, posts=posts, head=head)
    devices: set[uuid.UUID] | None = None
    outcomes: dict[int, Outcome] = {}
    accepted: list[tuple[int, Post]] = []
    in_batch: set[tuple[uuid.UUID | None, str | None]] = set()
    for index, post in posts:
        message_in = post.message_in
        key = (post.device_id, message_in.client_msg_id)
        if key in existing:
            same = _same_content(existing[key], message_in)
            outcomes[index] = Posted(existing[key], False) if same else ClientMsgIdReused()
            continue
        if key in in_batch:
            continue  # a repeat inside this batch: answered once the first is appended
        if message_in.kind in TARGETED_KINDS and not message_in.recipients:
            outcomes[index] = RecipientsRequired()
            continue
        parent_problem = _parent_problem(message_in, head=head, stored=parents, accepted=accepted)
        if parent_problem is not None:
            outcomes[index] = parent_problem
            continue
        if message_in.recipients:
            devices = (
                devices
                if devices is not None
                else await _member_devices(session, group_id=group_id)
            )
            if not set(message_in.recipients) <= devices:
                outcomes[index] = InvalidRecipients()
                continue
        accepted.append((index, post))
        in_batch.add(key)
    if len(accepted) < len(posts):
        await service.release(session, group_id=group_id, count=len(posts) - len(accepted))
    if not accepted:
        return outcomes
    items = await service.append_reserved(
        session,
        group_id=group_id,
        first=first_seq,
        items=[
            service.NewItem(
                kind=MessageKind(post.message_in.kind),
                envelope=post.message_in.envelope,
                sender_user_id=post.user_id,
                sender_device_id=post.device_id,
                recipients=post.message_in.recipients,
                client_msg_id=post.message_in.client_msg_id,
                parent_seq=post.message_in.parent_seq,
                urgent=post.message_in.urgent,
            )
            for _, post in accepted
        ],
    )
    for (index, post), appended in zip(accepted, items, strict=True):
        existing[(post.device_id, post.message_in.client_msg_id)] = appended
        outcomes[index] = Posted(appended, True)
    for index, post in posts:  # in-batch repeats replay the item created above
        if index not in outcomes:
            original = existing[(post.device_id, post.message_in.client_msg_id)]
            same = _same_content(original, post.message_in)
            outcomes[index] = Posted(original, False) if same else ClientMsgIdReused()
    return outcomes


async def post_many(session: AsyncSession, *, posts: list[Post]) -> list[Outcome]:
    """Append a batch of posts, group by group in a fixed order (no lock-order deadlocks)."""
    by_group: dict[uuid.UUID, list[tuple[int, Post]]] = {}
    for index, post in enumerate(posts):
        by_group.setdefault(post.group_id, []).append((index, post))
    outcomes: dict[int, Outcome] = {}
    for group_id in sorted(by_group):
        outcomes |= await _append_group(session, group_id=group_id, posts=by_group[group_id])
    return [outcomes[i] for i in range(len(posts))]


class Committer(GroupCommit[Post, Outcome]):
    """The posts' group-commit worker of one app."""

    name = "cordon-committer"

    async def apply(self, session: AsyncSession, jobs: list[Post]) -> list[Outcome]:
        return await post_many(session, posts=jobs)

    async def submit(self, post: Post) -> Posted:
        """Append a post; returns after its transaction committed, or raises its error."""
        outcome = await self.run_one(post)
        if isinstance(outcome, CordonError):
            raise outcome
        return outcome

    async def submit_many(self, posts: list[Post]) -> list[Outcome]:
        """Append several posts, queued together so they share a group commit; returns each
        one's outcome (a refused post does not fail the others) after the commit."""
        return await self.run_many(posts)
