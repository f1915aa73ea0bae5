"""Device bodies: public keys travel as unpadded or padded base64url."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer

from app.core.encoding import b64_lenient, b64url
from app.core.schemas import InputModel, ReadModel


def _decode_key(value: object) -> bytes:
    """A 32-byte public key given as base64url text (padding tolerated)."""
    raw = value if isinstance(value, bytes) else b64_lenient(value, what="a public key")
    if len(raw) != 32:
        raise ValueError("a public key is exactly 32 bytes")
    return raw


PublicKey = Annotated[
    bytes,
    BeforeValidator(_decode_key),
    PlainSerializer(b64url, return_type=str),
]


class DeviceCreate(InputModel):
    name: str = Field(min_length=1, max_length=100)
    signing_key: PublicKey
    exchange_key: PublicKey


class DeviceRead(ReadModel):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    signing_key: PublicKey
    exchange_key: PublicKey
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
