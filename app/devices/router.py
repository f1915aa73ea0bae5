"""Routes for the caller's own devices."""

import uuid

from fastapi import APIRouter

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep
from app.core.routing import CordonRoute
from app.devices import service
from app.devices.models import Device
from app.devices.schemas import DeviceRead

router = APIRouter(route_class=CordonRoute)


@router.get("", response_model=list[DeviceRead])
async def list_devices(session: SessionDep, principal: CurrentPrincipal) -> list[Device]:
    """The caller's devices, so a lost one can be spotted and revoked."""
    return await service.get_all(session, user_id=principal.user.id)


@router.get("/{device_id}", response_model=DeviceRead)
async def get_device(
    device_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> Device:
    """One of the caller's devices."""
    return await service.get(session, user_id=principal.user.id, device_id=device_id)


@router.post("/{device_id}/revoke", response_model=DeviceRead)
async def revoke_device(
    device_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> Device:
    """Revoke a device: its tokens stop working at once."""
    device = await service.get(session, user_id=principal.user.id, device_id=device_id)
    return await service.revoke(session, device=device)
