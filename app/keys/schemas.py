"""Bodies for prekeys and log entries: protocol JSON objects carried as they are signed."""

import uuid
from typing import Any

from pydantic import Field

from app.core.schemas import InputModel, ReadModel


class PrekeyUpload(InputModel):
    """A signed prekey record exactly as docs/PROTOCOL.md §3 defines it."""

    prekey: dict[str, Any]


class DeviceKeysRead(ReadModel):
    """A device's public keys and its currently valid signed prekeys."""

    user_id: uuid.UUID
    device_id: uuid.UUID
    signing_key: str
    prekeys: list[dict[str, Any]]


class LogAppend(InputModel):
    """One signed log entry exactly as docs/PROTOCOL.md §4.1 defines it."""

    entry: dict[str, Any]


class LogEntryRead(ReadModel):
    seq: int
    op: str
    entry_hash: str
    entry: dict[str, Any]


class LogPage(ReadModel):
    items: list[LogEntryRead]
    head_seq: int | None = Field(description="Newest seq stored, or null for an empty log")


class MemberKeyPublish(InputModel):
    """The caller's member public key (Ed25519, unpadded base64url)."""

    member_key: str = Field(min_length=43, max_length=43)


class MemberKeyRead(ReadModel):
    user_id: uuid.UUID
    member_key: str


MAX_ONE_TIME_BATCH = 100
MAX_CLAIM_DEVICES = 4096


class OneTimePrekeyUpload(InputModel):
    """A batch of signed one-time prekeys exactly as docs/PROTOCOL.md §3.2 defines them."""

    prekeys: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ONE_TIME_BATCH)


class OneTimePrekeyCount(ReadModel):
    """How many unclaimed one-time prekeys the server holds for the calling device."""

    count: int
    max_stored: int
    max_batch: int


class PrekeyClaim(InputModel):
    """The devices whose one-time prekey a sender claims, one each."""

    device_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_CLAIM_DEVICES)


class ClaimedPrekey(ReadModel):
    device_id: uuid.UUID
    one_time_prekey: dict[str, Any] | None = Field(
        description="The claimed key, now deleted on the server; null when none is left"
    )


class PrekeyClaimRead(ReadModel):
    items: list[ClaimedPrekey]
