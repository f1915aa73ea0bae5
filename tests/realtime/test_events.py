"""Events survive the trip through the cross-process broker unchanged."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from app.realtime import events
from app.realtime.events import ItemPublished, Kick, Refresh
from app.realtime.hub import Routing


@pytest.mark.parametrize(
    "event",
    [
        ItemPublished(
            Routing(uuid.uuid4(), 3, datetime.now(UTC), uuid.uuid4(), frozenset({uuid.uuid4()})),
            '{"type":"item"}',
        ),
        ItemPublished(Routing(uuid.uuid4(), 1, datetime.now(UTC)), "{}"),
        ItemPublished(
            Routing(
                uuid.uuid4(),
                2,
                datetime.now(UTC),
                uuid.uuid4(),
                frozenset({uuid.uuid4()}),
                receipt_device_id=uuid.uuid4(),
            ),
            '{"type":"item","kind":"receipt"}',
        ),
        Kick(device_id=uuid.uuid4(), reason="device revoked"),
        Kick(user_id=uuid.uuid4()),
        Kick(group_id=uuid.uuid4(), reason="group closed"),
        Kick(user_id=uuid.uuid4(), keep_token_id=uuid.uuid4(), reason="password changed"),
        Refresh(user_id=uuid.uuid4()),
    ],
)
def test_round_trip(event: events.Event):
    """`loads(dumps(e))` gives back the event and its origin."""
    assert events.loads(events.dumps(event, "me")) == ("me", event)


def test_an_item_from_a_process_without_receipt_devices_still_loads():
    """A publisher not yet upgraded (no "e" key) is read as an item held back from no one."""
    event = ItemPublished(Routing(uuid.uuid4(), 1, datetime.now(UTC)), "{}")
    body = json.loads(events.dumps(event, "old"))
    del body["e"]
    assert events.loads(json.dumps(body)) == ("old", event)


def test_garbage_is_refused():
    """A malformed payload raises instead of being half-applied."""
    with pytest.raises((ValueError, KeyError)):
        events.loads('{"t":"nope","o":"x"}')
