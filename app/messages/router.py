"""Routes: post to a group's stream, fetch one item, catch-up sync, receipts."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from app.auth.dependencies import CurrentPrincipal
from app.core.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.encoding import json_bytes
from app.core.errors import CordonError, error_body
from app.core.routing import CordonRoute, raises
from app.core.schemas import Seq
from app.devices.models import Device
from app.groups.dependencies import GroupPoster, GroupReader
from app.groups.service import GroupAccess
from app.messages import cursor, posting, service
from app.messages.batching import Outcome, Post
from app.messages.dependencies import (
    CommitterDep,
    CurrentViewer,
    ReceiptsDep,
    ValidPost,
    WritableGroup,
    check_post,
)
from app.messages.exceptions import MessageNotFound, ReceiptNotApplicable
from app.messages.schemas import (
    MessageBatchCreate,
    MessageBatchRead,
    MessageCreate,
    MessageRead,
    ReceiptBatch,
    ReceiptRead,
    SyncPage,
)

router = APIRouter(route_class=CordonRoute)


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
) -> Response:
    """Store an envelope; answers only after the commit (201, or 200 for a replay).

    `app.messages.posting.SinglePostRoute` serves this route for every UUID group id, so
    this declaration documents it and answers only the rest (with a 422)."""
    return await posting.store(
        message_in, access=access, principal=principal, committer=committer, session=session
    )


def _outcome(outcome: Outcome, message_in: MessageCreate) -> dict[str, Any]:
    """One `BatchOutcome`, rendered like sync's items (no model round trip per message)."""
    if isinstance(outcome, CordonError):
        return {
            "status": outcome.status,
            "client_msg_id": message_in.client_msg_id,
            "seq": None,
            "created_at": None,
            "problem": error_body(outcome),
        }
    return {
        "status": status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        "client_msg_id": message_in.client_msg_id,
        "seq": outcome.item.seq,
        "created_at": outcome.item.created_at,
        "problem": None,
    }


def _refusals(
    messages: list[MessageCreate], *, access: GroupAccess, device: Device, settings: Settings
) -> list[CordonError | None]:
    """`check_post` of each message: its problem, or None when it may be stored."""
    refusals: list[CordonError | None] = []
    for message_in in messages:
        try:
            check_post(message_in, access=access, device=device, settings=settings)
        except CordonError as refused:
            refusals.append(refused)
        else:
            refusals.append(None)
    return refusals


@router.post("/groups/{group_id}/messages/batch", response_model=MessageBatchRead)
async def post_messages(
    batch: MessageBatchCreate,
    access: WritableGroup,
    principal: CurrentPrincipal,
    committer: CommitterDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Store several envelopes in one group commit, for a device with a backlog to send
    (an import, a reconnect after being offline): one request and one commit instead of one
    each. Every message is checked as the single-message route checks it and answered on
    its own, in order; a refused one does not stop the others. Answers only after the commit."""
    # Checking is mostly Ed25519 verification (~130 us each here), which releases the GIL:
    # in a worker thread it runs on the other core beside the event loop.
    refusals = await run_in_threadpool(
        _refusals, batch.messages, access=access, device=principal.device, settings=settings
    )
    outcomes: list[Outcome | None] = list(refusals)
    posts = [
        Post(access.group.id, principal.user.id, principal.device.id, message_in)
        for message_in, refused in zip(batch.messages, refusals, strict=True)
        if refused is None
    ]
    await session.close()  # as in post_message: the committer uses its own connection
    committed = iter(await committer.submit_many(posts))
    results = [
        _outcome(o if o is not None else next(committed), message_in)
        for o, message_in in zip(outcomes, batch.messages, strict=True)
    ]
    return Response(json_bytes({"results": results}), media_type="application/json")


@router.get("/groups/{group_id}/messages/{seq}", response_model=MessageRead)
async def get_message(
    seq: Seq, access: GroupReader, viewer: CurrentViewer, session: SessionDep
) -> Response:
    """One item of the group's stream, if this device may read it (rendered as sync renders
    it)."""
    item = await service.get(session, viewer=viewer, group_id=access.group.id, seq=seq)
    return Response(json_bytes(service.render(item)), media_type="application/json")


@router.get("/groups/{group_id}/messages/{seq}/receipts", response_model=list[ReceiptRead])
async def list_receipts(
    seq: Seq, access: GroupReader, viewer: CurrentViewer, session: SessionDep
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
) -> Response:
    """Everything readable after the cursor, across the caller's groups or in one group.

    The page is rendered straight to JSON (`service.render`), not through `SyncPage`: a page
    holds up to thousands of items and the model round trip doubled the cost of catch-up."""
    result = await service.sync(
        session,
        viewer=viewer,
        positions=cursor.decode(cursor_in),
        group_id=group_id,
        limit=min(limit, settings.sync_page_max),
    )
    page = {
        "items": [service.render(item) for item in result.items],
        "next_cursor": cursor.encode(result.positions),
        "has_more": result.more,
    }
    return Response(json_bytes(page), media_type="application/json")


@router.post("/receipts", status_code=status.HTTP_204_NO_CONTENT)
@raises(MessageNotFound, ReceiptNotApplicable)  # forwarded from the group commit
async def post_receipts(
    batch: ReceiptBatch, session: SessionDep, viewer: CurrentViewer, receipts: ReceiptsDep
) -> None:
    """Acknowledge items as delivered or read, all of them or none (the first bad one's
    problem); each change is pushed to the sender. Answers after the commit."""
    await session.close()  # as in post_message: the group commit uses its own connection
    await receipts.record(viewer, batch.receipts)
