"""Routes: post to a group's stream, fetch one item, catch-up sync, receipts."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep, SettingsDep
from app.groups.dependencies import GroupPoster, GroupReader
from app.messages import cursor, service
from app.messages.batching import Post
from app.messages.dependencies import CommitterDep, CurrentViewer, ValidPost
from app.messages.schemas import (
    MessageRead,
    ReceiptBatch,
    ReceiptRead,
    SyncPage,
)

router = APIRouter()


@router.post(
    "/groups/{group_id}/messages",
    response_model=MessageRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Replay of an already stored client_msg_id"}},
)
async def post_message(
    message_in: ValidPost,
    access: GroupPoster,
    principal: CurrentPrincipal,
    committer: CommitterDep,
    session: SessionDep,
    response: Response,
) -> MessageRead:
    """Store an envelope; answers only after the commit (201, or 200 for a replay)."""
    post = Post(
        group_id=access.group.id,
        user_id=principal.user.id,
        device_id=principal.device.id,
        message_in=message_in,
    )
    # Hand the pooled connection back while the group commit runs on its own one, so
    # waiting posters never starve the pool the committer needs.
    await session.close()
    posted = await committer.submit(post)
    if not posted.created:
        response.status_code = status.HTTP_200_OK
    return MessageRead.from_item(posted.item)


@router.get("/groups/{group_id}/messages/{seq}", response_model=MessageRead)
async def get_message(
    seq: int, access: GroupReader, viewer: CurrentViewer, session: SessionDep
) -> MessageRead:
    """One item of the group's stream, if this device may read it."""
    item = await service.get(session, viewer=viewer, group_id=access.group.id, seq=seq)
    return MessageRead.from_item(item)


@router.get("/groups/{group_id}/messages/{seq}/receipts", response_model=list[ReceiptRead])
async def list_receipts(
    seq: int, access: GroupReader, viewer: CurrentViewer, session: SessionDep
) -> list[ReceiptRead]:
    """Delivered/read state per recipient device; only for the item's sender."""
    rows = await service.get_receipts(session, viewer=viewer, group_id=access.group.id, seq=seq)
    return [ReceiptRead.model_validate(r) for r in rows]


@router.get("/sync", response_model=SyncPage)
async def sync(
    session: SessionDep,
    viewer: CurrentViewer,
    settings: SettingsDep,
    cursor_in: Annotated[str | None, Query(alias="cursor", max_length=cursor.MAX_LENGTH)] = None,
    group_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> SyncPage:
    """Everything readable after the cursor, across the caller's groups or in one group."""
    result = await service.sync(
        session,
        viewer=viewer,
        positions=cursor.decode(cursor_in),
        group_id=group_id,
        limit=min(limit, settings.sync_page_max),
    )
    return SyncPage(
        items=[MessageRead.from_item(item) for item in result.items],
        next_cursor=cursor.encode(result.positions),
        has_more=result.more,
    )


@router.post("/receipts", status_code=status.HTTP_204_NO_CONTENT)
async def post_receipts(batch: ReceiptBatch, session: SessionDep, viewer: CurrentViewer) -> None:
    """Acknowledge items as delivered or read; each change is pushed to the sender."""
    await service.record_receipts(session, viewer=viewer, receipts=batch.receipts)
