"""The fast JSON writer must agree with pydantic and refuse what it cannot write faithfully."""

import uuid
from datetime import UTC, datetime

import asyncpg.pgproto.pgproto as pgproto
import pytest
from pydantic import BaseModel

from app.core.encoding import json_bytes


class Sample(BaseModel):
    id: uuid.UUID
    at: datetime


def test_driver_uuid_subclasses_are_written_as_text():
    """asyncpg hands back its own UUID subclass, which orjson alone refuses."""
    value = uuid.uuid4()
    driver_value = pgproto.UUID(str(value))
    assert isinstance(driver_value, uuid.UUID) and type(driver_value) is not uuid.UUID
    at = datetime(2026, 11, 24, 3, 4, 5, 6, tzinfo=UTC)
    expected = Sample(id=value, at=at).model_dump_json().encode()
    assert json_bytes({"id": driver_value, "at": at}) == expected
    assert json_bytes({"id": value, "at": at}) == expected


def test_values_without_a_faithful_json_form_are_refused():
    """Bytes or arbitrary objects raise instead of being written as their repr."""
    for value in (b"raw", object()):
        with pytest.raises(TypeError):
            json_bytes({"v": value})
