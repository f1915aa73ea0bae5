"""Dependencies of the pre-notification routes: the list filters from the query string."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query

from app.prenotifications.schemas import ListFilters
from app.prenotifications.workflow import Status


def list_filters(
    status: Annotated[list[Status] | None, Query()] = None,
    sender: uuid.UUID | None = None,
    recipient: uuid.UUID | None = None,
    sent_after: datetime | None = None,
    sent_before: datetime | None = None,
    eta_after: datetime | None = None,
    eta_before: datetime | None = None,
    overdue: bool | None = None,
) -> ListFilters:
    """Filters on status, people, sending time and (when disclosed) the ETA; times without
    an offset are read as UTC."""
    return ListFilters(
        status=status,
        sender=sender,
        recipient=recipient,
        sent_after=_utc(sent_after),
        sent_before=_utc(sent_before),
        eta_after=_utc(eta_after),
        eta_before=_utc(eta_before),
        overdue=overdue,
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


Filters = Annotated[ListFilters, Depends(list_filters)]
