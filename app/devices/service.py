"""Registering, listing and revoking a user's devices."""

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import realtime
from app.auth.models import AccessToken
from app.core.types import utcnow
from app.devices.exceptions import DeviceKeyTaken, DeviceNotFound, DeviceRevoked
from app.devices.models import Device
from app.devices.schemas import DeviceCreate
from app.users.models import User

MAX_DEVICES_PER_USER = 20


async def create(session: AsyncSession, *, user: User, device_in: DeviceCreate) -> Device:
    """Register a device's public keys (flushed, committed by the caller's transaction)."""
    taken = await session.scalar(
        select(Device.id).where(Device.signing_key == device_in.signing_key)
    )
    if taken is not None:
        raise DeviceKeyTaken()
    device = Device(
        user_id=user.id,
        name=device_in.name,
        signing_key=device_in.signing_key,
        exchange_key=device_in.exchange_key,
    )
    session.add(device)
    await session.flush()
    return device


async def get(session: AsyncSession, *, user_id: uuid.UUID, device_id: uuid.UUID) -> Device:
    """One of the user's devices, revoked or not; another user's device is not found."""
    device = await session.get(Device, device_id)
    if device is None or device.user_id != user_id:
        raise DeviceNotFound()
    return device


async def get_own(session: AsyncSession, *, user: User, device_id: uuid.UUID) -> Device:
    """One of the user's live devices; another user's device is simply not found."""
    device = await get(session, user_id=user.id, device_id=device_id)
    if device.revoked_at is not None:
        raise DeviceRevoked()
    return device


async def get_all(session: AsyncSession, *, user_id: uuid.UUID) -> list[Device]:
    """Every device of a user, newest first, revoked ones included for the audit view."""
    query = select(Device).where(Device.user_id == user_id).order_by(Device.created_at.desc())
    return list(await session.scalars(query))


async def revoke(session: AsyncSession, *, device: Device) -> Device:
    """Revoke the device and every token bound to it, in one transaction."""
    if device.revoked_at is not None:
        raise DeviceRevoked()
    now = utcnow()
    device.revoked_at = now
    await session.execute(
        update(AccessToken)
        .where(AccessToken.device_id == device.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    realtime.publish(session, realtime.Kick(device_id=device.id, reason="device revoked"))
    await session.commit()
    return device
