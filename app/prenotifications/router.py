"""Routes of the pre-notification workflow (thin: parse, authorise, call one service)."""

import uuid
from datetime import datetime

from fastapi import APIRouter, status

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep
from app.core.pagination import PageDep
from app.core.routing import CordonRoute
from app.groups.dependencies import GroupPoster, GroupReader
from app.prenotifications import queries, service
from app.prenotifications.dependencies import Filters
from app.prenotifications.schemas import (
    PrenotificationCreate,
    PrenotificationDetail,
    PrenotificationPage,
    TransitionCreate,
)

router = APIRouter(route_class=CordonRoute)
PAGE_SCOPE = "prenotifications"


@router.post(
    "/{group_id}/prenotifications",
    status_code=status.HTTP_201_CREATED,
    response_model=PrenotificationDetail,
)
async def send_prenotification(
    pn_in: PrenotificationCreate,
    session: SessionDep,
    access: GroupPoster,
    principal: CurrentPrincipal,
) -> PrenotificationDetail:
    """Send a pre-notification to its destination, transit members and the coordinators."""
    row = await service.create(session, access=access, device=principal.device, pn_in=pn_in)
    return await queries.detail(session, row=row)


@router.get("/{group_id}/prenotifications", response_model=PrenotificationPage)
async def list_prenotifications(
    session: SessionDep, access: GroupReader, filters: Filters, page: PageDep
) -> PrenotificationPage:
    """The pre-notifications the caller is party to (all of them for a coordinator)."""
    position = page.position(PAGE_SCOPE)
    after = (datetime.fromisoformat(position[0]), uuid.UUID(position[1])) if position else None
    rows = await queries.get_all(
        session, access=access, filters=filters, limit=page.limit, after=after
    )
    people = await queries.recipients(session, prenotification_ids=[r.id for r in rows])
    key = [rows[-1].sent_at.isoformat(), str(rows[-1].id)] if rows else None
    return PrenotificationPage(
        items=[queries.to_read(r, people[r.id]) for r in rows],
        next_cursor=page.next_cursor(PAGE_SCOPE, rows, key),
    )


@router.get(
    "/{group_id}/prenotifications/{prenotification_id}", response_model=PrenotificationDetail
)
async def get_prenotification(
    prenotification_id: uuid.UUID, session: SessionDep, access: GroupReader
) -> PrenotificationDetail:
    """One pre-notification with its signed event history, if the caller is party to it."""
    row = await queries.get(session, access=access, prenotification_id=prenotification_id)
    return await queries.detail(session, row=row)


@router.post(
    "/{group_id}/prenotifications/{prenotification_id}/events",
    status_code=status.HTTP_201_CREATED,
    response_model=PrenotificationDetail,
)
async def add_event(
    prenotification_id: uuid.UUID,
    tr_in: TransitionCreate,
    session: SessionDep,
    access: GroupPoster,
    principal: CurrentPrincipal,
) -> PrenotificationDetail:
    """Move a pre-notification to a new status with a signed event, pushed to every party."""
    row = await service.transition(
        session,
        access=access,
        device=principal.device,
        prenotification_id=prenotification_id,
        tr_in=tr_in,
    )
    return await queries.detail(session, row=row)
