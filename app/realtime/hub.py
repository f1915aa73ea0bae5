"""Pure fan-out decisions: who may read a stream item, and what a connection does with it.

Nothing here performs I/O, so the rules are unit-tested directly and shared verbatim by the
catch-up sync (`app.messages.service`), the single-item fetch and the websocket push.

The read rule
    A device reads an item of a group's stream when its user is a live member of the group
    and the item was appended at or after the start of that membership. A whole-group item
    (`recipients is None`) is then readable; a targeted item only by a listed recipient device
    or by any device of the user who sent it (so a sender's other devices stay in step).

The delivery rule
    What sync and the websocket push hand a device: what it may read (`can_read`), less the
    receipts it signed itself (`Routing.receipt_device_id`). Its own receipt tells the device
    nothing it does not know, and a backlog read on one device would otherwise come back to
    it once per item; the user's other devices and the item's sender still get it. The
    reader's position still moves past a receipt left out, like past an unreadable item.
    Fetching one item by seq (`can_read` alone) is unchanged.
"""

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Generic, NamedTuple, TypeVar


class Routing(NamedTuple):
    """The routing metadata of one stream item: all the server knows about it (a named
    tuple: catch-up builds one per item, and a frozen dataclass took twice as long)."""

    group_id: uuid.UUID
    seq: int
    created_at: datetime
    sender_user_id: uuid.UUID | None = None
    recipients: frozenset[uuid.UUID] | None = None
    receipt_device_id: uuid.UUID | None = None  # for a receipt: the device that signed it


@dataclass(frozen=True, slots=True)
class Viewer:
    """A device as a reader: its user and, per group, when the user's membership started;
    `token_id` names the session a socket authenticated with (a password change spares it)."""

    user_id: uuid.UUID
    device_id: uuid.UUID
    groups: Mapping[uuid.UUID, datetime] = field(default_factory=dict)
    token_id: uuid.UUID | None = None


def can_read(viewer: Viewer, routing: Routing) -> bool:
    """THE read rule (see the module docstring)."""
    since = viewer.groups.get(routing.group_id)
    if since is None or routing.created_at < since:
        return False
    if routing.recipients is None:
        return True
    return viewer.device_id in routing.recipients or viewer.user_id == routing.sender_user_id


def delivers(viewer: Viewer, routing: Routing) -> bool:
    """THE delivery rule (see the module docstring): readable, and not the device's own
    receipt coming back to it."""
    return routing.receipt_device_id != viewer.device_id and can_read(viewer, routing)


class Decision(Enum):
    """What a connection does with a live item, given where its reader stands in the group."""

    DELIVER = "deliver"  # the next item and readable: send it
    ADVANCE = "advance"  # the next item but not delivered to it: move past it silently
    SKIP = "skip"  # already delivered (or not this device's group): drop it
    CATCH_UP = "catch_up"  # items are missing before it: read the gap from the database


def decide(viewer: Viewer, positions: Mapping[uuid.UUID, int], routing: Routing) -> Decision:
    """Gap-free, duplicate-free delivery: only `position + 1` is pushed live; anything further
    ahead means a notification was lost or reordered, and the database fills the gap."""
    if routing.group_id not in viewer.groups:
        return Decision.SKIP
    position = positions.get(routing.group_id, 0)
    if routing.seq <= position:
        return Decision.SKIP
    if routing.seq > position + 1:
        return Decision.CATCH_UP
    return Decision.DELIVER if delivers(viewer, routing) else Decision.ADVANCE


C = TypeVar("C")


class Registry(Generic[C]):
    """Index of live connections by group, device and user, so a publish touches only the
    connections that can possibly care."""

    def __init__(self) -> None:
        self._groups: dict[uuid.UUID, set[C]] = {}
        self._devices: dict[uuid.UUID, set[C]] = {}
        self._users: dict[uuid.UUID, set[C]] = {}
        self._viewers: dict[C, Viewer] = {}

    def __len__(self) -> int:
        return len(self._viewers)

    def __iter__(self) -> Iterator[C]:
        return iter(list(self._viewers))

    def add(self, conn: C, viewer: Viewer) -> None:
        """Register (or re-register after a membership change) a connection."""
        self.remove(conn)
        self._viewers[conn] = viewer
        for group_id in viewer.groups:
            self._groups.setdefault(group_id, set()).add(conn)
        self._devices.setdefault(viewer.device_id, set()).add(conn)
        self._users.setdefault(viewer.user_id, set()).add(conn)

    def remove(self, conn: C) -> None:
        """Forget a connection; unknown connections are ignored."""
        viewer = self._viewers.pop(conn, None)
        if viewer is None:
            return
        for index, key in [(self._devices, viewer.device_id), (self._users, viewer.user_id)] + [
            (self._groups, group_id) for group_id in viewer.groups
        ]:
            members = index.get(key)
            if members is not None:
                members.discard(conn)
                if not members:
                    del index[key]

    def group_ids(self) -> list[uuid.UUID]:
        """Every group at least one connection follows."""
        return list(self._groups)

    def for_group(self, group_id: uuid.UUID) -> list[C]:
        """Connections whose device belongs to a member of the group."""
        return list(self._groups.get(group_id, ()))

    def for_device(self, device_id: uuid.UUID) -> list[C]:
        """Connections of one device (a device may hold several)."""
        return list(self._devices.get(device_id, ()))

    def for_user(self, user_id: uuid.UUID) -> list[C]:
        """Connections of every device of one user."""
        return list(self._users.get(user_id, ()))
