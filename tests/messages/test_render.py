"""Catch-up renders items without the pydantic model; it must stay identical to `MessageRead`."""

import base64
import json
import os
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.encoding import json_bytes
from app.messages import service
from app.messages.models import StreamItem
from app.messages.schemas import MessageRead, SyncPage
from tests import factories as f
from tests.messages.helpers import post, sync_all


def item(**fields: object) -> StreamItem:
    values: dict[str, object] = {
        "group_id": uuid.uuid4(),
        "seq": 7,
        "kind": "alert",
        "sender_user_id": uuid.uuid4(),
        "sender_device_id": uuid.uuid4(),
        "recipients": None,
        "client_msg_id": "m-1",
        "parent_seq": None,
        "urgent": False,
        "envelope": os.urandom(300),
        "created_at": datetime(2026, 11, 24, 3, 4, 5, 123456, tzinfo=UTC),
    }
    values.update(fields)
    return StreamItem(**values)


def as_model(stored: StreamItem) -> MessageRead:
    """The item through the API model, field by field: the oracle `render` must match."""
    return MessageRead(
        group_id=stored.group_id,
        seq=stored.seq,
        kind=stored.kind,
        sender_user_id=stored.sender_user_id,
        sender_device_id=stored.sender_device_id,
        recipients=[uuid.UUID(d) for d in stored.recipients]
        if stored.recipients is not None
        else None,
        client_msg_id=stored.client_msg_id,
        parent_seq=stored.parent_seq,
        urgent=stored.urgent,
        created_at=stored.created_at,
        envelope=base64.b64encode(stored.envelope).decode(),
    )


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"created_at": datetime(2026, 11, 24, 3, 4, 5, tzinfo=UTC)},  # no fraction
        {"created_at": datetime(2026, 11, 24, 3, 4, 5, 1000, tzinfo=UTC)},
        {"recipients": [str(uuid.uuid4()), str(uuid.uuid4())], "kind": "sender_key"},
        {"sender_user_id": None, "sender_device_id": None, "client_msg_id": None},
        {"kind": "membership", "envelope": b""},
        {"parent_seq": 3, "urgent": True},
    ],
)
def test_render_equals_the_model(fields: dict[str, object]):
    """Every field shape renders to exactly the JSON `MessageRead` would produce."""
    stored = item(**fields)
    model = as_model(stored)
    assert json_bytes(service.render(stored)) == model.model_dump_json().encode()
    frame = json.loads(service.frame(stored))
    assert frame == {"type": "item", **model.model_dump(mode="json")}


async def test_sync_items_equal_the_single_item_route(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Rows read by sync (columns, not entities) render as the item route renders them."""
    g = await f.group_with_roles(client, session)
    first = (await post(client, g.member, g.group_id, "first")).json()["seq"]
    await post(client, g.member, g.group_id, "reply", parent_seq=first, urgent=True)
    await post(
        client, g.member, g.group_id, kind="sender_key", recipients=[g.coordinator.device_id]
    )
    items, _ = await sync_all(client, g.coordinator)
    assert len(items) >= 3
    for synced in items:
        one = await client.get(
            f"/api/v1/groups/{g.group_id}/messages/{synced['seq']}", headers=g.coordinator.headers
        )
        assert one.json() == synced
    r = await client.get("/api/v1/sync", headers=g.coordinator.headers)
    assert r.headers["content-type"] == "application/json"
    SyncPage.model_validate(r.json())  # the documented response model still holds
