"""Request and response bodies for posting, sync and receipts."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from app.core.encoding import b64_lenient, b64url_strict
from app.core.schemas import InputModel, Seq
from app.messages.models import CLIENT_KINDS, MessageKind


def _envelope(value: Any) -> bytes:
    """The bytes stay opaque here; `app.messages.envelopes` checks them after parsing."""
    return b64_lenient(value, what="envelope")


def _client_kind(kind: MessageKind) -> MessageKind:
    if kind not in CLIENT_KINDS:
        raise ValueError(f"{kind.value!r} items are written by the server only")
    return kind


def _unique(devices: list[uuid.UUID] | None) -> list[uuid.UUID] | None:
    if devices is not None and len(set(devices)) != len(devices):
        raise ValueError("recipients must not repeat")
    return devices


class MessageCreate(InputModel):
    """A new envelope for a group's stream, idempotent on `client_msg_id`."""

    kind: Annotated[MessageKind, AfterValidator(_client_kind)]
    client_msg_id: str = Field(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")
    envelope: Annotated[bytes, BeforeValidator(_envelope)] = Field(
        json_schema_extra={"type": "string", "format": "base64"}
    )
    recipients: (
        Annotated[list[uuid.UUID], AfterValidator(_unique), Field(min_length=1, max_length=4096)]
        | None
    ) = None
    parent_seq: Seq | None = None
    urgent: bool = False


class MessageRead(BaseModel):
    """One stream item as every reader sees it (also the websocket `item` frame)."""

    group_id: uuid.UUID
    seq: int
    kind: str
    sender_user_id: uuid.UUID | None
    sender_device_id: uuid.UUID | None
    recipients: list[uuid.UUID] | None
    client_msg_id: str | None
    parent_seq: int | None
    urgent: bool
    created_at: datetime
    envelope: str


BATCH_MAX = 256  # messages per batch post (the request-size limit applies too)


class MessageBatchCreate(InputModel):
    """Several envelopes for one group's stream, stored in one group commit."""

    messages: list[MessageCreate] = Field(min_length=1, max_length=BATCH_MAX)


class BatchOutcome(BaseModel):
    """One message's answer: 201 stored, 200 replay of a stored client_msg_id (with the
    stored item's seq and time), or its 4xx with the problem document the single-message
    route would have returned. The envelope is not echoed: the sender has it, and a batch
    answer would otherwise repeat the whole request."""

    status: int
    client_msg_id: str
    seq: int | None = None
    created_at: datetime | None = None
    problem: dict[str, Any] | None = None


class MessageBatchRead(BaseModel):
    """Outcomes in the order of the submitted messages."""

    results: list[BatchOutcome]


class SyncPage(BaseModel):
    """Readable items after the cursor; resume from `next_cursor` (always set)."""

    items: list[MessageRead]
    next_cursor: str
    has_more: bool


def _signature(value: Any) -> bytes:
    try:
        return b64url_strict(value, length=64, what="sig")
    except ValueError as exc:
        raise ValueError(str(exc)) from None


class ReceiptCreate(InputModel):
    """This device received (or its user read) one item, signed by the device: `sig` is
    Ed25519 over `sig_input("receipt", group_id, item's sender_device_id, item's message_id,
    device_id, status, ts)` (docs/PROTOCOL.md §7.2)."""

    group_id: uuid.UUID
    seq: Seq
    status: Literal["delivered", "read"]
    ts: int = Field(ge=0, le=2**53 - 1)
    sig: Annotated[bytes, BeforeValidator(_signature)] = Field(
        json_schema_extra={"type": "string", "format": "base64url"}
    )


class ReceiptBatch(InputModel):
    """Receipts are sent in batches, as clients acknowledge what a sync returned."""

    receipts: list[ReceiptCreate] = Field(min_length=1, max_length=500)


class ReceiptRead(BaseModel):
    """How far one recipient device got with an item."""

    model_config = {"from_attributes": True}

    device_id: uuid.UUID
    user_id: uuid.UUID
    delivered_at: datetime
    read_at: datetime | None
