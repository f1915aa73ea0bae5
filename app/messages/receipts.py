"""Delivered and read receipts, recorded with group commit.

Every receiving device acknowledges every item it opens, so one alert to a group of 200
devices brings 200 receipts within milliseconds. Recorded one by one — stream lock, item,
receipt row, receipt item, commit: ~2.6 ms of CPU each here, queued on SQLite's write lock —
they cost the server far more than the alert (docs/benchmarks.md). So they go through a group
commit like posts: the receipts that arrive together are checked against the items and the
receipt rows read in one query per group, and written as one INSERT of new rows, one UPDATE
statement for the rows that become read, and one append of receipt items per group.

An `Acknowledgement` is what one request or one websocket frame carries; it is recorded whole
or refused whole, with the problem of its first bad receipt, as before. `read` implies
`delivered`, repeats are no-ops, the sender's own devices are not tracked, and each change is
pushed to the item's sender device as a `receipt` item of the group's stream.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from cordon_client import wire
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import realtime
from app.auth.exceptions import InvalidToken
from app.core.encoding import b64url
from app.core.errors import CordonError
from app.core.types import utcnow
from app.devices.models import Device
from app.groups.exceptions import GroupReadOnly
from app.groups.models import Group, Membership
from app.groups.status import GroupWrite, ensure_accepts
from app.messages import service
from app.messages.exceptions import InvalidReceipt, MessageNotFound, ReceiptNotApplicable
from app.messages.group_commit import GroupCommit
from app.messages.models import MessageKind, Receipt, StreamItem
from app.messages.schemas import ReceiptCreate
from app.users.models import User

_RECEIPTS = cast(Table, Receipt.__table__)
# The items acknowledged, as readers see them (one row per item, however many receipts).
_ITEMS = select(*service.ITEM_COLUMNS).where(
    StreamItem.group_id == bindparam("group_id"),
    StreamItem.seq.in_(bindparam("seqs", expanding=True)),
)
_ROWS = select(
    Receipt.seq, Receipt.device_id, Receipt.user_id, Receipt.delivered_at, Receipt.read_at
).where(
    Receipt.group_id == bindparam("group_id"),
    Receipt.seq.in_(bindparam("seqs", expanding=True)),
    Receipt.device_id.in_(bindparam("devices", expanding=True)),
)
_INSERT_ROWS = insert(_RECEIPTS)
_MARK_READ = (
    update(_RECEIPTS)
    .where(
        _RECEIPTS.c.group_id == bindparam("b_group_id"),
        _RECEIPTS.c.seq == bindparam("b_seq"),
        _RECEIPTS.c.device_id == bindparam("b_device_id"),
    )
    .values(read_at=bindparam("b_read_at"))
)

_LIVE_DEVICES = (
    select(Device.id)
    .join(User, User.id == Device.user_id)
    .where(
        Device.id.in_(bindparam("ids", expanding=True)),
        Device.revoked_at.is_(None),
        User.disabled_at.is_(None),
    )
)
_LIVE_MEMBERS = (
    select(Membership.user_id, Membership.group_id, Group.status)
    .join(Group, Group.id == Membership.group_id)
    .where(
        Membership.user_id.in_(bindparam("users", expanding=True)),
        Membership.group_id.in_(bindparam("groups", expanding=True)),
        Membership.removed_at.is_(None),
    )
)

Key = tuple[uuid.UUID, int, uuid.UUID]  # group, seq, receiving device
_NO_REF = wire.MessageRef(uuid.UUID(int=0), uuid.UUID(int=0))


@dataclass(frozen=True)
class Acknowledgement:
    """The receipts of one request or frame, from one device: recorded whole or not at all."""

    viewer: realtime.Viewer
    receipts: tuple[ReceiptCreate, ...]


@dataclass
class _Row:
    """A receipt row as this batch leaves it."""

    user_id: uuid.UUID
    delivered_at: datetime
    read_at: datetime | None
    new: bool
    read_changed: bool = False


_KEYS = select(Device.id, Device.signing_key).where(
    Device.id.in_(bindparam("devices", expanding=True))
)


def _item_ref(item: Any) -> wire.MessageRef | None:
    """How the item's sender named it, or None for items that take no receipt."""
    try:
        return wire.MessageRef(item.sender_device_id, uuid.UUID(item.client_msg_id))
    except (TypeError, ValueError, AttributeError):
        return None


def _envelope(key: Key, row: _Row, receipt: ReceiptCreate, ref: wire.MessageRef) -> bytes:
    """The receipt item's body: which device got how far with which item, and when, with
    the receipting device's signature for the sender to check (docs/PROTOCOL.md §7.2)."""
    at = row.read_at if receipt.status == "read" else row.delivered_at
    return json.dumps(
        {
            "seq": key[1],
            "device_id": str(key[2]),
            "user_id": str(row.user_id),
            "status": receipt.status,
            "at": at.isoformat() if at else None,
            "item": {"sender_device_id": str(ref.sender_device_id), "message_id": str(ref[1])},
            "ts": receipt.ts,
            "sig": b64url(receipt.sig),
        }
    ).encode()


class _Batch:
    """The items, receipt rows and new receipt items of one group commit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.live_devices: set[uuid.UUID] = set()
        self.memberships: dict[tuple[uuid.UUID, uuid.UUID], str] = {}
        self.items: dict[tuple[uuid.UUID, int], Any] = {}
        self.rows: dict[Key, _Row] = {}
        self.keys: dict[uuid.UUID, bytes] = {}
        self.appends: dict[uuid.UUID, list[service.NewItem]] = {}

    async def load_access(self, acks: Sequence[Acknowledgement]) -> None:
        """Which acknowledging devices are still live, and the status of each group they
        still belong to: a socket's viewer was read when it connected, and the user may have
        been disabled, the device revoked or the member removed since."""
        devices = {ack.viewer.device_id for ack in acks}
        users = {ack.viewer.user_id for ack in acks}
        groups = {receipt.group_id for ack in acks for receipt in ack.receipts}
        self.live_devices = set(await self.session.scalars(_LIVE_DEVICES, {"ids": list(devices)}))
        rows = await self.session.execute(
            _LIVE_MEMBERS, {"users": list(users), "groups": list(groups)}
        )
        self.memberships = {(user_id, group_id): status for user_id, group_id, status in rows}

    async def load(self, acks: Sequence[Acknowledgement]) -> None:
        """Lock every stream involved (in a fixed order), then read their items and rows.
        Only the viewers' own groups are touched: a receipt for any other group (one that
        does not exist included) finds no item and is refused by `check` as not found."""
        await self.load_access(acks)
        wanted: dict[uuid.UUID, tuple[set[int], set[uuid.UUID]]] = {}
        for ack in acks:
            for receipt in ack.receipts:
                if receipt.group_id not in ack.viewer.groups:
                    continue
                seqs, devices = wanted.setdefault(receipt.group_id, (set(), set()))
                seqs.add(receipt.seq)
                devices.add(ack.viewer.device_id)
        receipting = sorted({ack.viewer.device_id for ack in acks})
        if receipting:
            keys = await self.session.execute(_KEYS, {"devices": receipting})
            self.keys = {row.id: row.signing_key for row in keys}
        for group_id in sorted(wanted):
            await service.lock_stream(self.session, group_id=group_id)
        for group_id in sorted(wanted):
            seqs, devices = wanted[group_id]
            params = {"group_id": group_id, "seqs": sorted(seqs)}
            for item in await self.session.execute(_ITEMS, params):
                self.items[(group_id, item.seq)] = item
            rows = await self.session.execute(_ROWS, {**params, "devices": list(devices)})
            for seq, device_id, user_id, delivered_at, read_at in rows:
                self.rows[(group_id, seq, device_id)] = _Row(
                    user_id=user_id, delivered_at=delivered_at, read_at=read_at, new=False
                )

    def check(self, ack: Acknowledgement) -> CordonError | None:
        """The problem of the acknowledgement's first bad receipt, or None."""
        if ack.viewer.device_id not in self.live_devices:
            return InvalidToken("The device was revoked or its user disabled.")
        for receipt in ack.receipts:
            status = self.memberships.get((ack.viewer.user_id, receipt.group_id))
            if status is None:
                return MessageNotFound()
            try:
                ensure_accepts(status, GroupWrite.RECEIPT)
            except GroupReadOnly as refused:
                return refused
            item = self.items.get((receipt.group_id, receipt.seq))
            if item is None or not realtime.can_read(ack.viewer, service.routing(item)):
                return MessageNotFound()
            ref = _item_ref(item)
            if ref is None or item.kind == MessageKind.RECEIPT:
                return ReceiptNotApplicable()
            signed = wire.receipt_signing_input(
                group_id=receipt.group_id,
                item=ref,
                device_id=ack.viewer.device_id,
                status=receipt.status,
                ts=receipt.ts,
            )
            key = self.keys.get(ack.viewer.device_id, b"")
            if not wire.verify_ed25519(key, receipt.sig, signed):
                return InvalidReceipt(
                    f"receipt for seq {receipt.seq}: the signature does not verify under "
                    "the receipting device's key"
                )
        return None

    def record(self, ack: Acknowledgement) -> None:
        """Apply a checked acknowledgement's receipts in order to the batch's state."""
        viewer = ack.viewer
        for receipt in ack.receipts:
            item = self.items[(receipt.group_id, receipt.seq)]
            if item.sender_device_id == viewer.device_id:
                continue  # the sender's own device holds its message already
            key = (receipt.group_id, receipt.seq, viewer.device_id)
            row = self.rows.get(key)
            now = utcnow()
            if row is None:
                row = _Row(user_id=viewer.user_id, delivered_at=now, read_at=None, new=True)
                self.rows[key] = row
            elif receipt.status == "delivered" or row.read_at is not None:
                continue  # nothing new to tell the sender
            if receipt.status == "read":
                row.read_at, row.read_changed = now, not row.new
            self.appends.setdefault(receipt.group_id, []).append(
                service.NewItem(
                    kind=MessageKind.RECEIPT,
                    envelope=_envelope(key, row, receipt, _item_ref(item) or _NO_REF),
                    sender_user_id=viewer.user_id,
                    sender_device_id=viewer.device_id,
                    recipients=[item.sender_device_id],
                )
            )

    async def write(self) -> None:
        """New rows in one INSERT, newly read rows in one UPDATE, receipt items per group."""
        new = [
            {
                "group_id": key[0],
                "seq": key[1],
                "device_id": key[2],
                "user_id": row.user_id,
                "delivered_at": row.delivered_at,
                "read_at": row.read_at,
            }
            for key, row in self.rows.items()
            if row.new
        ]
        read = [
            {"b_group_id": key[0], "b_seq": key[1], "b_device_id": key[2], "b_read_at": row.read_at}
            for key, row in self.rows.items()
            if row.read_changed
        ]
        if new:
            await self.session.execute(_INSERT_ROWS, new)
        if read:
            await self.session.execute(_MARK_READ, read)
        for group_id in sorted(self.appends):
            await service.append_many(self.session, group_id=group_id, items=self.appends[group_id])


async def record_many(
    session: AsyncSession, acks: Sequence[Acknowledgement]
) -> list[CordonError | None]:
    """Record acknowledgements in the session's transaction (the caller commits): each one
    whole, or its problem."""
    batch = _Batch(session)
    await batch.load(acks)
    problems = []
    for ack in acks:
        problem = batch.check(ack)
        if problem is None:
            batch.record(ack)
        problems.append(problem)
    await batch.write()
    return problems


class ReceiptCommitter(GroupCommit[Acknowledgement, CordonError | None]):
    """The receipts' group-commit worker of one app."""

    name = "cordon-receipts"

    async def apply(
        self, session: AsyncSession, jobs: list[Acknowledgement]
    ) -> list[CordonError | None]:
        return await record_many(session, jobs)

    async def record(self, viewer: realtime.Viewer, receipts: Sequence[ReceiptCreate]) -> None:
        """Record one request's or frame's receipts after their commit, or raise the problem
        of the first bad one (and record none of them)."""
        problem = await self.run_one(Acknowledgement(viewer, tuple(receipts)))
        if problem is not None:
            raise problem
