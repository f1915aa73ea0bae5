"""The pure fan-out rules: who reads what, and what a connection does with a live item."""

import uuid
from datetime import UTC, datetime, timedelta

from app.realtime.hub import Decision, Registry, Routing, Viewer, can_read, decide, delivers

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GROUP = uuid.uuid4()
USER, DEVICE, OTHER_DEVICE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
VIEWER = Viewer(user_id=USER, device_id=DEVICE, groups={GROUP: T0})


def item(seq: int = 1, **kwargs: object) -> Routing:
    values: dict[str, object] = {"group_id": GROUP, "seq": seq, "created_at": T0}
    values.update(kwargs)
    return Routing(**values)  # type: ignore[arg-type]


def test_whole_group_items_are_readable_by_members():
    """A member's device reads every whole-group item appended since it joined."""
    assert can_read(VIEWER, item())


def test_items_before_the_membership_started_are_not_readable():
    """History from before the user joined stays out of reach."""
    assert not can_read(VIEWER, item(created_at=T0 - timedelta(seconds=1)))


def test_other_groups_are_not_readable():
    """Membership of one group grants nothing in another."""
    assert not can_read(VIEWER, item(group_id=uuid.uuid4()))


def test_targeted_items_reach_recipients_and_the_senders_devices_only():
    """A targeted item is read by its recipients and the sender's own devices, no one else."""
    targeted = item(recipients=frozenset({OTHER_DEVICE}), sender_user_id=uuid.uuid4())
    assert not can_read(VIEWER, targeted)
    assert can_read(VIEWER, item(recipients=frozenset({DEVICE})))
    assert can_read(VIEWER, item(recipients=frozenset({OTHER_DEVICE}), sender_user_id=USER))


def test_decide_delivers_only_the_next_item():
    """Position+1 is delivered, older is skipped, a jump asks for a database catch-up."""
    positions = {GROUP: 4}
    assert decide(VIEWER, positions, item(5)) is Decision.DELIVER
    assert decide(VIEWER, positions, item(4)) is Decision.SKIP
    assert decide(VIEWER, positions, item(7)) is Decision.CATCH_UP


def test_decide_advances_past_unreadable_items():
    """An item the device may not read moves the position without a send."""
    hidden = item(5, recipients=frozenset({OTHER_DEVICE}))
    assert decide(VIEWER, {GROUP: 4}, hidden) is Decision.ADVANCE


def test_a_devices_own_receipt_is_not_delivered_back_to_it():
    """A receipt this device signed stays readable but is not delivered to it; the user's
    other devices and the item's sender (a recipient) still get it."""
    own = item(sender_user_id=USER, recipients=frozenset({OTHER_DEVICE}), receipt_device_id=DEVICE)
    assert can_read(VIEWER, own) and not delivers(VIEWER, own)
    twin = Viewer(user_id=USER, device_id=uuid.uuid4(), groups={GROUP: T0})
    assert delivers(twin, own)
    sender = Viewer(user_id=uuid.uuid4(), device_id=OTHER_DEVICE, groups={GROUP: T0})
    assert delivers(sender, own)
    assert decide(VIEWER, {GROUP: 0}, own) is Decision.ADVANCE
    assert decide(twin, {GROUP: 0}, own) is Decision.DELIVER


def test_only_receipts_are_held_back_from_their_device():
    """An item without a receipt device (everything but receipts) is delivered as readable."""
    mine = item(sender_user_id=USER)
    assert delivers(VIEWER, mine)
    assert not delivers(VIEWER, item(recipients=frozenset({OTHER_DEVICE})))


def test_decide_ignores_groups_the_device_does_not_follow():
    """Items of groups outside the viewer's memberships are dropped."""
    assert decide(VIEWER, {}, item(1, group_id=uuid.uuid4())) is Decision.SKIP


def test_registry_indexes_by_group_device_and_user():
    """Connections are found by group, device and user, and forgotten on removal."""
    registry: Registry[str] = Registry()
    registry.add("a", VIEWER)
    registry.add("b", Viewer(user_id=USER, device_id=OTHER_DEVICE, groups={}))
    assert registry.for_group(GROUP) == ["a"]
    assert registry.for_device(DEVICE) == ["a"]
    assert sorted(registry.for_user(USER)) == ["a", "b"]
    registry.remove("a")
    assert registry.for_group(GROUP) == [] and registry.group_ids() == []
    assert len(registry) == 1
