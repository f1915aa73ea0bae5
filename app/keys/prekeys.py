"""One-time prekeys: batches in, each key claimed at most once (docs/PROTOCOL.md §3.2).

A claim is one `DELETE … RETURNING` for all its devices, so no second claim can see a key it
returned. On PostgreSQL each row is locked as it is chosen (`FOR UPDATE SKIP LOCKED`): an
overlapping claim for the same device takes the next key without waiting (without the lock it
would pick the same row, find it deleted and come back empty). SQLite runs one writer at a
time, so each claim sees the database as the previous one left it.
"""

import uuid
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.encoding import b64url
from app.devices.models import Device
from app.groups.models import Membership
from app.keys import protocol
from app.keys.exceptions import MalformedKeyMaterial, OneTimePrekeysFull, PrekeyExists
from app.keys.models import OneTimePrekey

MAX_STORED_PER_DEVICE = 200


def one_time_prekey_json(
    device_id: uuid.UUID, prekey_id: int, public_key: bytes, sig: bytes
) -> dict[str, Any]:
    """The protocol JSON form of a one-time prekey, as its device signed it."""
    return {
        "device_id": str(device_id),
        "prekey_id": prekey_id,
        "public_key": b64url(public_key),
        "sig": b64url(sig),
    }


async def count(session: AsyncSession, *, device_id: uuid.UUID) -> int:
    """Unclaimed one-time prekeys stored for a device."""
    stored = await session.scalar(
        select(func.count()).select_from(OneTimePrekey).where(OneTimePrekey.device_id == device_id)
    )
    return int(stored or 0)


def _parse_batch(device: Device, batch: list[dict[str, Any]]) -> list[protocol.OneTimePrekey]:
    parsed = []
    for i, obj in enumerate(batch):
        try:
            prekey = protocol.parse_one_time_prekey(
                obj, device_signing_key=device.signing_key, what=f"prekeys[{i}]"
            )
        except protocol.FormatError as exc:
            raise MalformedKeyMaterial(str(exc)) from None
        if prekey.device_id != device.id:
            raise MalformedKeyMaterial(
                f"prekeys[{i}].device_id: a device uploads only its own prekeys"
            )
        parsed.append(prekey)
    if len({p.prekey_id for p in parsed}) != len(parsed):
        raise MalformedKeyMaterial("prekeys: a prekey_id appears twice in the batch")
    return parsed


async def upload(session: AsyncSession, *, device: Device, batch: list[dict[str, Any]]) -> int:
    """Store a batch signed by the calling device, all or nothing; return the new count."""
    parsed = _parse_batch(device, batch)
    # Serialises one device's uploads on PostgreSQL so two batches cannot pass the limit.
    await session.execute(select(Device.id).where(Device.id == device.id).with_for_update())
    stored = await count(session, device_id=device.id)
    if stored + len(parsed) > MAX_STORED_PER_DEVICE:
        await session.rollback()
        raise OneTimePrekeysFull(
            f"This device stores {stored} unclaimed one-time prekeys; at most "
            f"{MAX_STORED_PER_DEVICE} are kept, so upload at most {MAX_STORED_PER_DEVICE - stored}."
        )
    session.add_all(
        OneTimePrekey(
            device_id=device.id, prekey_id=p.prekey_id, public_key=p.public_key, sig=p.sig
        )
        for p in parsed
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise PrekeyExists("A one-time prekey_id of this batch was already uploaded.") from None
    return stored + len(parsed)


def _claim_statement() -> Any:
    """One DELETE … RETURNING for a whole claim: for each requested device that is a live
    device of a live member of the group, its lowest-numbered unclaimed key not locked by
    another claim. Built once; the device list is an expanding parameter."""
    key = OneTimePrekey.__table__.alias("candidate")
    lowest = (
        select(key.c.id)
        .where(key.c.device_id == Device.id)
        .order_by(key.c.prekey_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    chosen = (
        select(lowest)
        .select_from(Device)
        .join(Membership, Membership.user_id == Device.user_id)
        .where(
            Membership.group_id == bindparam("group_id"),
            Membership.removed_at.is_(None),
            Device.revoked_at.is_(None),
            Device.id.in_(bindparam("device_ids", expanding=True)),
        )
    )
    return (
        delete(OneTimePrekey)
        .where(OneTimePrekey.id.in_(chosen))
        .returning(
            OneTimePrekey.device_id,
            OneTimePrekey.prekey_id,
            OneTimePrekey.public_key,
            OneTimePrekey.sig,
        )
    )


CLAIM = _claim_statement()


async def claim(
    session: AsyncSession, *, group_id: uuid.UUID, device_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, dict[str, Any] | None]]:
    """Claim one one-time prekey per requested device of the group, in request order (a
    repeated id is answered once), in one statement that deletes what it returns.

    A device outside the group, revoked, or with no key left gets None (the sender then uses
    its signed prekey)."""
    wanted = list(dict.fromkeys(device_ids))
    await session.commit()  # end any read snapshot: SQLite refuses to upgrade a stale one
    rows = await session.execute(CLAIM, {"group_id": group_id, "device_ids": wanted})
    claimed = {row[0]: one_time_prekey_json(*row) for row in rows}
    await session.commit()
    return [(d, claimed.get(d)) for d in wanted]
