"""The pre-notification state machine and the signed status event, pure and table-driven.

Statuses: ``sent`` → ``acknowledged`` → ``arrived`` → ``cleared`` → ``closed``, plus
``amended`` and ``cancelled`` (by the sender) and ``discrepancy`` (by a destination).

Who acts in which capacity
    *sender*: the user who sent the pre-notification (any of their devices);
    *destination*: a user addressed as a destination (any one of them may act);
    *coordinator*: a live member whose group role is ``coordinator``.
    Transit members and co-coordinators receive everything but make no transitions.

==============  ================================  =====================
to              from                              who
==============  ================================  =====================
acknowledged    sent, amended                     destination
arrived         acknowledged                      destination
cleared         arrived, discrepancy              destination
discrepancy     acknowledged, arrived             destination
amended         sent, acknowledged, amended       sender
cancelled       sent, acknowledged, amended       sender
closed          cleared, discrepancy              sender, coordinator
==============  ================================  =====================

``closed`` and ``cancelled`` are final. An amendment sends the shipment back to "awaiting
acknowledgement"; nothing can be amended or cancelled once it has arrived. ``amended`` and
``discrepancy`` must carry an encrypted detail envelope (the new version; what was found).

Signed event: the acting device signs ``sig_input("prenotification-event", group_id,
prenotification_id, seq, from, to, ts, detail_hash)``, ``seq`` being the event's position
(the creation is event 0) and ``detail_hash`` SHA-256 of the attached envelope or empty.
"""

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from enum import StrEnum

from app.keys.protocol import encode, label


class Status(StrEnum):
    """Where a pre-notification stands."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ARRIVED = "arrived"
    CLEARED = "cleared"
    CLOSED = "closed"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    DISCREPANCY = "discrepancy"


class Capacity(StrEnum):
    """The part a user plays in one pre-notification."""

    SENDER = "sender"
    DESTINATION = "destination"
    COORDINATOR = "coordinator"


S, C = Status, Capacity
TRANSITIONS: Mapping[tuple[Status, Status], frozenset[Capacity]] = {
    (S.SENT, S.ACKNOWLEDGED): frozenset({C.DESTINATION}),
    (S.AMENDED, S.ACKNOWLEDGED): frozenset({C.DESTINATION}),
    (S.ACKNOWLEDGED, S.ARRIVED): frozenset({C.DESTINATION}),
    (S.ARRIVED, S.CLEARED): frozenset({C.DESTINATION}),
    (S.DISCREPANCY, S.CLEARED): frozenset({C.DESTINATION}),
    (S.ACKNOWLEDGED, S.DISCREPANCY): frozenset({C.DESTINATION}),
    (S.ARRIVED, S.DISCREPANCY): frozenset({C.DESTINATION}),
    (S.SENT, S.AMENDED): frozenset({C.SENDER}),
    (S.ACKNOWLEDGED, S.AMENDED): frozenset({C.SENDER}),
    (S.AMENDED, S.AMENDED): frozenset({C.SENDER}),
    (S.SENT, S.CANCELLED): frozenset({C.SENDER}),
    (S.ACKNOWLEDGED, S.CANCELLED): frozenset({C.SENDER}),
    (S.AMENDED, S.CANCELLED): frozenset({C.SENDER}),
    (S.CLEARED, S.CLOSED): frozenset({C.SENDER, C.COORDINATOR}),
    (S.DISCREPANCY, S.CLOSED): frozenset({C.SENDER, C.COORDINATOR}),
}
DETAIL_REQUIRED = frozenset({S.AMENDED, S.DISCREPANCY})
AWAITING_ACK = frozenset({S.SENT, S.AMENDED})
TIMESTAMP_FIELD: Mapping[Status, str] = {
    S.ACKNOWLEDGED: "acknowledged_at",
    S.ARRIVED: "arrived_at",
    S.CLEARED: "cleared_at",
    S.CLOSED: "closed_at",
    S.AMENDED: "amended_at",
    S.CANCELLED: "cancelled_at",
    S.DISCREPANCY: "discrepancy_at",
}


class Refusal(StrEnum):
    """Why a transition is refused: the state does not allow it, or the caller may not."""

    OUT_OF_ORDER = "out_of_order"
    NOT_ALLOWED = "not_allowed"


def check(current: Status, target: Status, capacities: Iterable[Capacity]) -> Refusal | None:
    """None when `capacities` may move `current` to `target`, else why not."""
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        return Refusal.OUT_OF_ORDER
    return None if allowed & set(capacities) else Refusal.NOT_ALLOWED


def event_signing_input(
    *,
    group_id: uuid.UUID,
    prenotification_id: uuid.UUID,
    seq: int,
    from_status: str,
    to_status: str,
    ts: int,
    detail: bytes | None,
) -> bytes:
    """The bytes the acting device signs for one status event."""
    detail_hash = hashlib.sha256(detail).digest() if detail is not None else b""
    return label("prenotification-event") + encode(
        group_id, prenotification_id, seq, from_status, to_status, ts, detail_hash
    )
