"""Routes for the key directory and the signed membership log."""

import json
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep
from app.core.encoding import b64url
from app.core.routing import CordonRoute
from app.core.schemas import BoundedInt
from app.groups.dependencies import GroupParticipant, GroupPoster, GroupReader
from app.keys import prekeys, service
from app.keys.models import GroupLogEntry
from app.keys.schemas import (
    MAX_ONE_TIME_BATCH,
    ClaimedPrekey,
    DeviceKeysRead,
    LogAppend,
    LogEntryRead,
    LogPage,
    MemberKeyPublish,
    MemberKeyRead,
    OneTimePrekeyCount,
    OneTimePrekeyUpload,
    PrekeyClaim,
    PrekeyClaimRead,
    PrekeyUpload,
)

router = APIRouter(route_class=CordonRoute)
group_router = APIRouter(route_class=CordonRoute)


@router.post("/prekeys", status_code=status.HTTP_201_CREATED, response_model=dict[str, int])
async def upload_prekey(
    body: PrekeyUpload, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, int]:
    """Publish a signed prekey of the calling device."""
    row = await service.upload_prekey(session, device=principal.device, prekey_obj=body.prekey)
    return {"prekey_id": row.prekey_id}


@router.put("/member-key", response_model=MemberKeyRead)
async def publish_member_key(
    body: MemberKeyPublish, session: SessionDep, principal: CurrentPrincipal
) -> MemberKeyRead:
    """Publish the caller's member key so coordinators can certify it in group logs."""
    row = await service.publish_member_key(
        session, user_id=principal.user.id, key_b64=body.member_key
    )
    return MemberKeyRead(user_id=row.user_id, member_key=b64url(row.public_key))


@group_router.get("/{group_id}/member-keys", response_model=list[MemberKeyRead])
async def get_member_keys(session: SessionDep, access: GroupReader) -> list[MemberKeyRead]:
    """Published member keys of the group's members; compare fingerprints before certifying."""
    rows = await service.get_member_keys(session, group_id=access.group.id)
    return [MemberKeyRead(user_id=r.user_id, member_key=b64url(r.public_key)) for r in rows]


@group_router.get("/{group_id}/keys", response_model=list[DeviceKeysRead])
async def get_group_keys(session: SessionDep, access: GroupReader) -> list[DeviceKeysRead]:
    """Public keys of the group's devices; clients trust only those the verified log certifies."""
    keys = await service.get_group_keys(session, group_id=access.group.id)
    return [DeviceKeysRead.model_validate(k, from_attributes=True) for k in keys]


def _read(row: GroupLogEntry) -> LogEntryRead:
    return LogEntryRead(
        seq=row.seq, op=row.op, entry_hash=row.entry_hash.hex(), entry=json.loads(row.entry_json)
    )


@group_router.post(
    "/{group_id}/log", status_code=status.HTTP_201_CREATED, response_model=LogEntryRead
)
async def append_log_entry(
    body: LogAppend, session: SessionDep, access: GroupParticipant, principal: CurrentPrincipal
) -> LogEntryRead:
    """Append a signed entry at the head of the group's membership log."""
    row = await service.append_log(
        session, access=access, device=principal.device, entry_obj=body.entry
    )
    return _read(row)


@group_router.get("/{group_id}/log", response_model=LogPage)
async def read_log(
    session: SessionDep,
    access: GroupReader,
    after_seq: Annotated[BoundedInt, Query(ge=-1)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> LogPage:
    """The signed log from just after `after_seq` (-1 = from genesis), oldest first."""
    rows, head = await service.get_log(
        session, group_id=access.group.id, after_seq=after_seq, limit=limit
    )
    return LogPage(items=[_read(r) for r in rows], head_seq=head)


def _count(stored: int) -> OneTimePrekeyCount:
    return OneTimePrekeyCount(
        count=stored, max_stored=prekeys.MAX_STORED_PER_DEVICE, max_batch=MAX_ONE_TIME_BATCH
    )


@router.post(
    "/one-time-prekeys", status_code=status.HTTP_201_CREATED, response_model=OneTimePrekeyCount
)
async def upload_one_time_prekeys(
    body: OneTimePrekeyUpload, session: SessionDep, principal: CurrentPrincipal
) -> OneTimePrekeyCount:
    """Store a batch of the calling device's signed one-time prekeys, all or nothing."""
    stored = await prekeys.upload(session, device=principal.device, batch=body.prekeys)
    return _count(stored)


@router.get("/one-time-prekeys", response_model=OneTimePrekeyCount)
async def count_one_time_prekeys(
    session: SessionDep, principal: CurrentPrincipal
) -> OneTimePrekeyCount:
    """How many of the calling device's one-time prekeys are still unclaimed."""
    return _count(await prekeys.count(session, device_id=principal.device.id))


@group_router.post("/{group_id}/one-time-prekeys/claim", response_model=PrekeyClaimRead)
async def claim_one_time_prekeys(
    body: PrekeyClaim, session: SessionDep, access: GroupPoster
) -> PrekeyClaimRead:
    """Claim one one-time prekey of each named device of the group; each key is served once."""
    claimed = await prekeys.claim(session, group_id=access.group.id, device_ids=body.device_ids)
    return PrekeyClaimRead(
        items=[ClaimedPrekey(device_id=d, one_time_prekey=p) for d, p in claimed]
    )
