"""Storing signed prekeys and appending to the signed membership log.

The server enforces structure, chaining (`seq = head + 1`, `prev = H(head)`), signatures and
who may submit which op at the API level. It does not decide trust: clients verify the whole
chain from the pinned root and ignore anything the server could have forged.
"""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.encoding import b64url
from app.devices.models import Device
from app.groups.models import GroupRole, Membership
from app.groups.service import GroupAccess
from app.keys import protocol
from app.keys.exceptions import (
    LogEntryNotAllowed,
    LogOutOfOrder,
    MalformedKeyMaterial,
    MemberKeyExists,
    PrekeyExists,
)
from app.keys.models import DevicePrekey, GroupLogEntry, MemberKey

PREKEY_RETENTION_MS = 14 * 24 * 3600 * 1000  # PROTOCOL §10: deleted 14 days after expiry


def now_ms() -> int:
    return int(time.time() * 1000)


def prekey_json(row: DevicePrekey) -> dict[str, Any]:
    """The stored prekey in its protocol JSON form, as the device signed it."""
    return {
        "device_id": str(row.device_id),
        "prekey_id": row.prekey_id,
        "public_key": b64url(row.public_key),
        "created_ts": row.created_ts,
        "expires_ts": row.expires_ts,
        "sig": b64url(row.sig),
    }


async def upload_prekey(
    session: AsyncSession, *, device: Device, prekey_obj: dict[str, Any]
) -> DevicePrekey:
    """Store a prekey signed by the calling device; drop its long-expired ones."""
    try:
        prekey = protocol.parse_prekey(prekey_obj, device_signing_key=device.signing_key)
    except protocol.FormatError as exc:
        raise MalformedKeyMaterial(str(exc)) from None
    if prekey.device_id != device.id:
        raise MalformedKeyMaterial("device_id: a device uploads only its own prekeys")
    await session.execute(
        delete(DevicePrekey).where(
            DevicePrekey.device_id == device.id,
            DevicePrekey.expires_ts < now_ms() - PREKEY_RETENTION_MS,
        )
    )
    row = DevicePrekey(
        device_id=device.id,
        prekey_id=prekey.prekey_id,
        public_key=prekey.public_key,
        created_ts=prekey.created_ts,
        expires_ts=prekey.expires_ts,
        sig=prekey.sig,
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise PrekeyExists() from None
    return row


async def publish_member_key(
    session: AsyncSession, *, user_id: uuid.UUID, key_b64: str
) -> MemberKey:
    """Publish the user's member key once; the same key again is a no-op, another one a 409."""
    try:
        raw = protocol.b64d(key_b64, length=32, what="member_key")
    except protocol.FormatError as exc:
        raise MalformedKeyMaterial(str(exc)) from None
    existing = await session.get(MemberKey, user_id)
    if existing is not None:
        if existing.public_key != raw:
            raise MemberKeyExists("Rotate a member key through the group log instead.")
        return existing
    row = MemberKey(user_id=user_id, public_key=raw)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise MemberKeyExists() from None
    return row


async def get_member_keys(session: AsyncSession, *, group_id: uuid.UUID) -> list[MemberKey]:
    """Published member keys of the group's live members (untrusted until certified)."""
    rows = await session.scalars(
        select(MemberKey)
        .join(Membership, Membership.user_id == MemberKey.user_id)
        .where(Membership.group_id == group_id, Membership.removed_at.is_(None))
        .order_by(MemberKey.user_id)
    )
    return list(rows)


@dataclass(frozen=True)
class DeviceKeys:
    """Public keys of one device of a group member, for senders to encrypt to."""

    user_id: uuid.UUID
    device_id: uuid.UUID
    signing_key: str
    prekeys: list[dict[str, Any]]


async def get_group_keys(session: AsyncSession, *, group_id: uuid.UUID) -> list[DeviceKeys]:
    """Every live device of every live member, with its unexpired signed prekeys."""
    rows = await session.execute(
        select(Device, DevicePrekey)
        .join(Membership, Membership.user_id == Device.user_id)
        .outerjoin(
            DevicePrekey,
            (DevicePrekey.device_id == Device.id) & (DevicePrekey.expires_ts > now_ms()),
        )
        .where(
            Membership.group_id == group_id,
            Membership.removed_at.is_(None),
            Device.revoked_at.is_(None),
        )
        .order_by(Device.id, DevicePrekey.prekey_id)
    )
    by_device: dict[uuid.UUID, DeviceKeys] = {}
    for device, prekey in rows:
        keys = by_device.setdefault(
            device.id,
            DeviceKeys(device.user_id, device.id, b64url(device.signing_key), []),
        )
        if prekey is not None:
            keys.prekeys.append(prekey_json(prekey))
    return list(by_device.values())


async def _head(session: AsyncSession, *, group_id: uuid.UUID) -> GroupLogEntry | None:
    return await session.scalar(
        select(GroupLogEntry)
        .where(GroupLogEntry.group_id == group_id)
        .order_by(GroupLogEntry.seq.desc())
        .limit(1)
    )


async def _authorise(
    session: AsyncSession, *, access: GroupAccess, entry: protocol.LogEntry
) -> None:
    """Who may submit which op: coordinators the group's ops, members their own devices."""
    is_coordinator = access.role == GroupRole.COORDINATOR
    if entry.op in protocol.COORDINATOR_OPS:
        if not is_coordinator:
            raise LogEntryNotAllowed(f"Only coordinators append {entry.op} entries.")
        if entry.op == "genesis" and entry.body["root_key"] != b64url(entry.signer):
            raise MalformedKeyMaterial("body.root_key: the genesis signer is the root key")
        if entry.op == "add_member":
            await _require_member(session, access=access, member_id=entry.body["member_id"])
        return
    own = entry.body["member_id"] == str(access.user.id)
    if entry.op == "revoke_device" and (own or is_coordinator):
        return
    if not own:
        raise LogEntryNotAllowed(f"A {entry.op} entry concerns only the caller's own keys.")
    if entry.op == "add_device":
        device = await session.get(Device, uuid.UUID(entry.body["device_id"]))
        if (
            device is None
            or device.user_id != access.user.id
            or device.revoked_at is not None
            or b64url(device.signing_key) != entry.body["device_key"]
        ):
            raise LogEntryNotAllowed("add_device must certify one of your live devices' keys.")


async def _require_member(session: AsyncSession, *, access: GroupAccess, member_id: str) -> None:
    live = await session.scalar(
        select(Membership.id).where(
            Membership.group_id == access.group.id,
            Membership.user_id == uuid.UUID(member_id),
            Membership.removed_at.is_(None),
        )
    )
    if live is None:
        raise LogEntryNotAllowed("add_member certifies only a current member of the group.")


async def append_log(
    session: AsyncSession, *, access: GroupAccess, device: Device, entry_obj: dict[str, Any]
) -> GroupLogEntry:
    """Append one entry at the head, or refuse it without writing anything."""
    try:
        entry = protocol.parse_log_entry(entry_obj)
    except protocol.FormatError as exc:
        raise MalformedKeyMaterial(str(exc)) from None
    if entry.group_id != access.group.id:
        raise MalformedKeyMaterial("group_id: the entry belongs to another group")
    head = await _head(session, group_id=access.group.id)
    expected_seq = 0 if head is None else head.seq + 1
    expected_prev = protocol.ZERO_HASH if head is None else head.entry_hash
    if entry.seq != expected_seq or entry.prev != expected_prev:
        raise LogOutOfOrder(f"The next entry must have seq {expected_seq} and chain to the head.")
    if (entry.seq == 0) != (entry.op == "genesis"):
        raise MalformedKeyMaterial("op: genesis is exactly the first entry")
    await _authorise(session, access=access, entry=entry)
    row = GroupLogEntry(
        group_id=access.group.id,
        seq=entry.seq,
        op=entry.op,
        entry_hash=entry.entry_hash,
        entry_json=json.dumps(entry_obj, sort_keys=True, separators=(",", ":")),
        author_device_id=device.id,
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # another coordinator appended at the same seq first
        await session.rollback()
        raise LogOutOfOrder("Another entry took that position; fetch the log and retry.") from None
    return row


async def get_log(
    session: AsyncSession, *, group_id: uuid.UUID, after_seq: int, limit: int
) -> tuple[list[GroupLogEntry], int | None]:
    """Entries after `after_seq` in order, and the current head's seq."""
    rows = await session.scalars(
        select(GroupLogEntry)
        .where(GroupLogEntry.group_id == group_id, GroupLogEntry.seq > after_seq)
        .order_by(GroupLogEntry.seq)
        .limit(limit)
    )
    head = await _head(session, group_id=group_id)
    return list(rows), (head.seq if head else None)
