"""Posting with group commit: concurrent posts share one transaction and one fsync.

A single worker task per process drains the queue of posts, appends them all in one
transaction and answers each caller only after that commit. Idempotency on
(group, sender device, client_msg_id) is checked after taking the group's stream lock, so it
holds across processes; the unique constraint backs it up, and if a batch fails as a whole its
posts are retried one by one so one bad post never fails the others.
"""

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import CordonError
from app.devices.models import Device
from app.groups.models import Membership
from app.messages import service
from app.messages.exceptions import (
    ClientMsgIdReused,
    InvalidRecipients,
    ParentNotFound,
    RecipientsRequired,
)
from app.messages.models import TARGETED_KINDS, MessageKind, StreamItem
from app.messages.schemas import MessageCreate

logger = logging.getLogger("cordon.messages")


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
    recipients = [str(d) for d in message_in.recipients] if message_in.recipients else None
    return (
        item.kind == message_in.kind.value
        and item.envelope == message_in.envelope
        and item.recipients == recipients
        and item.parent_seq == message_in.parent_seq
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
        if message_in.parent_seq is not None and message_in.parent_seq > head + len(accepted):
            outcomes[index] = ParentNotFound()
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
            first = existing[(post.device_id, post.message_in.client_msg_id)]
            same = _same_content(first, post.message_in)
            outcomes[index] = Posted(first, False) if same else ClientMsgIdReused()
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


@dataclass
class _Pending:
    post: Post
    future: "asyncio.Future[Outcome]" = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Committer:
    """The group-commit worker of one app (started lazily on the first post)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, batch_max: int) -> None:
        self._sessionmaker = sessionmaker
        self._batch_max = batch_max
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None

    def _ensure_worker(self) -> "asyncio.Queue[_Pending]":
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run(self._queue), name="cordon-committer")
        return self._queue

    async def submit(self, post: Post) -> Posted:
        """Append a post; returns after its transaction committed, or raises its error."""
        pending = _Pending(post)
        self._ensure_worker().put_nowait(pending)
        outcome = await pending.future
        if isinstance(outcome, CordonError):
            raise outcome
        return outcome

    async def submit_many(self, posts: list[Post]) -> list[Outcome]:
        """Append several posts, queued together so they share a group commit; returns each
        one's outcome (a refused post does not fail the others) after the commit."""
        queue = self._ensure_worker()
        pending = [_Pending(post) for post in posts]
        for one in pending:
            queue.put_nowait(one)
        return list(await asyncio.gather(*(one.future for one in pending)))

    async def stop(self) -> None:
        """Stop the worker (pending posts are failed by cancellation)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(BaseException):
                await self._worker

    async def _run(self, queue: "asyncio.Queue[_Pending]") -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._batch_max and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                outcomes = await self._commit([p.post for p in batch])
            except BaseException as exc:
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for pending, outcome in zip(batch, outcomes, strict=True):
                if not pending.future.done():
                    pending.future.set_result(outcome)

    async def _commit(self, posts: list[Post]) -> list[Outcome]:
        try:
            return await self._commit_once(posts)
        except DBAPIError:
            if len(posts) == 1:
                raise
            logger.warning("batch of %d failed; retrying its posts one by one", len(posts))
        results: list[Outcome] = []
        for post in posts:
            try:
                results += await self._commit_once([post])
            except DBAPIError:  # a concurrent duplicate won the race: replay it
                results += await self._commit_once([post])
        return results

    async def _commit_once(self, posts: list[Post]) -> list[Outcome]:
        async with self._sessionmaker() as session:
            try:
                outcomes = await post_many(session, posts=posts)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            return outcomes
