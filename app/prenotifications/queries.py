"""Reading pre-notifications: who may see one, lookups, the filtered list, the read models.

Visibility: the sender, every addressed user (destination, transit, coordinator) and every
current coordinator of the group. Anyone else gets the same 404 as for a missing one.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import utcnow
from app.devices.models import Device
from app.groups.models import GroupRole, Membership
from app.groups.service import GroupAccess
from app.prenotifications.exceptions import PrenotificationNotFound
from app.prenotifications.models import (
    Prenotification,
    PrenotificationEvent,
    PrenotificationRecipient,
)
from app.prenotifications.schemas import (
    EventRead,
    ListFilters,
    PrenotificationDetail,
    PrenotificationRead,
    RecipientRead,
)
from app.prenotifications.workflow import AWAITING_ACK


def _visible(access: GroupAccess) -> ColumnElement[bool]:
    if access.role == GroupRole.COORDINATOR:
        return Prenotification.group_id == access.group.id
    addressed = exists().where(
        PrenotificationRecipient.prenotification_id == Prenotification.id,
        PrenotificationRecipient.user_id == access.user.id,
    )
    return and_(
        Prenotification.group_id == access.group.id,
        or_(Prenotification.sender_user_id == access.user.id, addressed),
    )


async def get(
    session: AsyncSession, *, access: GroupAccess, prenotification_id: uuid.UUID
) -> Prenotification:
    """One pre-notification the caller may see (fresh from the database), or a 404."""
    row = await session.scalar(
        select(Prenotification)
        .where(Prenotification.id == prenotification_id, _visible(access))
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise PrenotificationNotFound()
    return row


async def recipients(
    session: AsyncSession, *, prenotification_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PrenotificationRecipient]]:
    """Addressed users per pre-notification."""
    out: dict[uuid.UUID, list[PrenotificationRecipient]] = {p: [] for p in prenotification_ids}
    if prenotification_ids:
        rows = await session.scalars(
            select(PrenotificationRecipient)
            .where(PrenotificationRecipient.prenotification_id.in_(prenotification_ids))
            .order_by(PrenotificationRecipient.role, PrenotificationRecipient.user_id)
        )
        for row in rows:
            out[row.prenotification_id].append(row)
    return out


async def live_devices(
    session: AsyncSession, *, group_id: uuid.UUID, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Unrevoked devices of those users who are still live members of the group."""
    out: dict[uuid.UUID, set[uuid.UUID]] = {}
    rows = await session.execute(
        select(Device.user_id, Device.id)
        .join(Membership, Membership.user_id == Device.user_id)
        .where(
            Membership.group_id == group_id,
            Membership.removed_at.is_(None),
            Membership.user_id.in_(list(user_ids)),
            Device.revoked_at.is_(None),
        )
    )
    for user_id, device_id in rows:
        out.setdefault(user_id, set()).add(device_id)
    return out


def _filters(filters: ListFilters, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.status:
        where.append(Prenotification.status.in_([s.value for s in filters.status]))
    if filters.sender is not None:
        where.append(Prenotification.sender_user_id == filters.sender)
    if filters.recipient is not None:
        where.append(
            exists().where(
                PrenotificationRecipient.prenotification_id == Prenotification.id,
                PrenotificationRecipient.user_id == filters.recipient,
            )
        )
    for column, bound, after in (
        (Prenotification.sent_at, filters.sent_after, True),
        (Prenotification.sent_at, filters.sent_before, False),
        (Prenotification.eta, filters.eta_after, True),
        (Prenotification.eta, filters.eta_before, False),
    ):
        if bound is not None:
            where.append(column >= bound if after else column < bound)
    if filters.overdue is not None:
        overdue = and_(
            Prenotification.status.in_([s.value for s in AWAITING_ACK]),
            Prenotification.eta.is_not(None),
            Prenotification.eta <= now,
        )
        where.append(overdue if filters.overdue else ~overdue)
    return where


async def get_all(
    session: AsyncSession,
    *,
    access: GroupAccess,
    filters: ListFilters,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[Prenotification]:
    """The caller's visible pre-notifications matching the filters, newest first."""
    query = select(Prenotification).where(_visible(access), *_filters(filters, utcnow()))
    if after is not None:
        sent_at, last_id = after
        query = query.where(
            or_(
                Prenotification.sent_at < sent_at,
                and_(Prenotification.sent_at == sent_at, Prenotification.id < last_id),
            )
        )
    rows = await session.scalars(
        query.order_by(Prenotification.sent_at.desc(), Prenotification.id.desc()).limit(limit)
    )
    return list(rows)


def is_overdue(row: Prenotification, now: datetime) -> bool:
    """Not acknowledged by its disclosed ETA."""
    return row.status in AWAITING_ACK and row.eta is not None and row.eta <= now


def to_read(
    row: Prenotification, people: Sequence[PrenotificationRecipient]
) -> PrenotificationRead:
    """The read model of one record."""
    return PrenotificationRead.model_validate(
        {
            **{
                c: getattr(row, c)
                for c in PrenotificationRead.model_fields
                if c not in ("recipients", "overdue")
            },
            "overdue": is_overdue(row, utcnow()),
            "recipients": [RecipientRead.model_validate(p) for p in people],
        }
    )


async def detail(session: AsyncSession, *, row: Prenotification) -> PrenotificationDetail:
    """A record with its recipients and its whole event history."""
    people = (await recipients(session, prenotification_ids=[row.id]))[row.id]
    events = await session.scalars(
        select(PrenotificationEvent)
        .where(PrenotificationEvent.prenotification_id == row.id)
        .order_by(PrenotificationEvent.seq)
    )
    return PrenotificationDetail(
        **to_read(row, people).model_dump(),
        events=[EventRead.model_validate(e) for e in events],
    )
