"""Column types shared by every domain's models."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import DateTime, String, TypeDecorator, Uuid
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored and returned timezone-aware in UTC on both backends."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The one clock of the server, so tests can reason about it."""
    return datetime.now(UTC)


PrimaryKey = Annotated[uuid.UUID, mapped_column(Uuid, primary_key=True, default=uuid.uuid4)]
CreatedAt = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow, nullable=False)]
ShortName = Annotated[str, mapped_column(String(200), nullable=False)]
