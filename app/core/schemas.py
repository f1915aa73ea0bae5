"""Base classes for request and response models."""

from typing import Annotated, Final

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """Inbound bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReadModel(BaseModel):
    """Outbound bodies, built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)


INT_MAX: Final = 2**31 - 1
"""The largest value of an INTEGER column on every backend (PostgreSQL's int4)."""
BIGINT_MAX: Final = 2**63 - 1

BoundedInt = Annotated[int, Ge(-INT_MAX - 1), Le(INT_MAX)]
"""The one integer type of every seq, version, count, index and position a client sends, in
paths, queries, bodies and websocket frames: a value its column cannot hold is a 422 (or a
4400 close), never a database error. Narrow it with `Ge(...)` where it must be positive."""
BoundedBigInt = Annotated[int, Ge(-BIGINT_MAX - 1), Le(BIGINT_MAX)]
"""The same for the few BIGINT columns (byte sizes, timestamps, prekey ids)."""
Seq = Annotated[BoundedInt, Ge(1)]
"""A position in a stream or log: stream items start at 1."""
