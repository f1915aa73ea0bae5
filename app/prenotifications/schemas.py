"""Request and response bodies of the pre-notification workflow."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_serializer

from app.core.encoding import b64_lenient, b64url
from app.core.schemas import BoundedInt, InputModel, ReadModel, Seq
from app.prenotifications.workflow import Status

TEMPLATE_ID_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"


def _opaque(value: Any) -> bytes:
    """Envelopes and signatures stay opaque here; the service parses and verifies them."""
    return b64_lenient(value)


def _unique(users: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(users)) != len(users):
        raise ValueError("must not repeat a user")
    return users


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a UTC offset")
    return value


Base64 = Annotated[
    bytes,
    BeforeValidator(_opaque),
    Field(json_schema_extra={"type": "string", "format": "base64"}),
]
Users = Annotated[list[uuid.UUID], AfterValidator(_unique)]


class PrenotificationCreate(InputModel):
    """Send a pre-notification: a targeted envelope plus the routing the server enforces."""

    envelope: Base64
    destination: Users = Field(min_length=1, max_length=50)
    transit: Users = Field(default_factory=list, max_length=50)
    template_id: str = Field(pattern=TEMPLATE_ID_PATTERN)
    template_version: Annotated[BoundedInt, Field(ge=1)]
    eta: Annotated[datetime | None, AfterValidator(_aware)] = Field(
        default=None,
        description="Optional, deliberately disclosed routing metadata: enables server-side "
        "ETA and overdue filters. Leave it out to keep the ETA end-to-end encrypted.",
    )


class TransitionCreate(InputModel):
    """One status change, signed by the acting device over the fields below."""

    from_status: Status
    to_status: Status
    seq: Seq = Field(description="The new event's position (the current event_count)")
    ts: int = Field(ge=0, lt=1 << 63, description="Milliseconds since the Unix epoch, UTC")
    signature: Base64
    detail_envelope: Base64 | None = None


class RecipientRead(ReadModel):
    """An addressed user and their capacity: destination, transit or coordinator."""

    user_id: uuid.UUID
    role: str


class EventRead(ReadModel):
    """One signed status change, with where its stream items are."""

    seq: int
    from_status: str | None
    to_status: str
    actor_user_id: uuid.UUID | None
    actor_device_id: uuid.UUID | None
    ts: int
    signature: bytes
    detail_seq: int | None
    stream_seq: int
    created_at: datetime

    @field_serializer("signature")
    def _b64(self, value: bytes) -> str:
        return b64url(value)


class PrenotificationRead(ReadModel):
    """What the server knows of a pre-notification: routing, status and timestamps only."""

    id: uuid.UUID
    group_id: uuid.UUID
    sender_user_id: uuid.UUID | None
    sender_device_id: uuid.UUID | None
    template_id: str
    template_version: int
    status: str
    event_count: int
    stream_seq: int
    eta: datetime | None
    overdue: bool
    sent_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    cleared_at: datetime | None
    closed_at: datetime | None
    amended_at: datetime | None
    cancelled_at: datetime | None
    discrepancy_at: datetime | None
    recipients: list[RecipientRead]


class PrenotificationDetail(PrenotificationRead):
    """A pre-notification with its whole signed event history."""

    events: list[EventRead]


class PrenotificationPage(BaseModel):
    """One page of the list; pass `next_cursor` back for the next."""

    items: list[PrenotificationRead]
    next_cursor: str | None = None


@dataclass(frozen=True)
class ListFilters:
    """Server-side filters: all on routing metadata, none on encrypted fields."""

    status: list[Status] | None = None
    sender: uuid.UUID | None = None
    recipient: uuid.UUID | None = None
    sent_after: datetime | None = None
    sent_before: datetime | None = None
    eta_after: datetime | None = None
    eta_before: datetime | None = None
    overdue: bool | None = None
