"""Sending pre-notifications and moving them through the workflow (docs/workflows.md).

Routing rule, enforced here: a pre-notification goes to its destination and declared transit
members and to every coordinator of the group, and to no one else. The envelope may only be
wrapped to live devices of those users (and the sender's own), and it must reach each of them
who has a device. Every write takes the group's stream lock first, so two transitions of one
pre-notification are serialised and the second sees the first's status. Everything is one
transaction: the stream items, the record and its event commit together, then are pushed.
"""

import json
import uuid
from collections.abc import Iterable

from cordon_client import wire
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import utcnow
from app.devices.models import Device
from app.groups import service as groups_service
from app.groups.models import GroupRole, Membership
from app.groups.service import GroupAccess
from app.groups.status import GroupWrite
from app.keys.envelope import TARGETED, EnvelopeHeader, parse_envelope, verify_sender
from app.keys.protocol import FormatError, verify_signature
from app.messages import service as messages_service
from app.messages.models import MessageKind
from app.prenotifications import queries
from app.prenotifications.exceptions import (
    CoordinatorsMissing,
    DetailRequired,
    DuplicatePrenotification,
    InvalidEnvelope,
    InvalidRecipients,
    InvalidSignature,
    InvalidTransition,
    RecipientNotMember,
    RoutingMismatch,
    StatusChanged,
    TransitionNotAllowed,
)
from app.prenotifications.models import (
    Prenotification,
    PrenotificationEvent,
    PrenotificationRecipient,
)
from app.prenotifications.schemas import PrenotificationCreate, TransitionCreate
from app.prenotifications.workflow import (
    DETAIL_REQUIRED,
    TIMESTAMP_FIELD,
    Capacity,
    Refusal,
    Status,
    check,
    event_signing_input,
)
from app.templates import service as templates_service

DESTINATION, TRANSIT, COORDINATOR = "destination", "transit", "coordinator"
PRENOTIFICATION_TYPE = 3  # docs/PROTOCOL.md §5.1 content type


def _envelope(data: bytes, *, access: GroupAccess, device: Device) -> EnvelopeHeader:
    """A structurally valid targeted pre-notification envelope signed by the calling device."""
    try:
        header = parse_envelope(data)
        verify_sender(header, device_signing_key=device.signing_key)
    except FormatError as exc:
        raise InvalidEnvelope(str(exc)) from None
    if header.kind != TARGETED or header.content_type != PRENOTIFICATION_TYPE:
        raise InvalidEnvelope("envelope: must be targeted, content type PRENOTIFICATION (3)")
    if header.group_id != access.group.id or header.sender_device_id != device.id:
        raise InvalidEnvelope("envelope: must name this group and the calling device")
    return header


def _check_roles(header: EnvelopeHeader, pn_in: PrenotificationCreate) -> None:
    """The posted destination and transit users are the ones the sender signed, and a
    pre-notification replies to nothing (docs/PROTOCOL.md §5.2)."""
    posted = dict.fromkeys(pn_in.destination, wire.ROLE_DESTINATION)
    posted |= dict.fromkeys(pn_in.transit, wire.ROLE_TRANSIT)
    if dict(header.labels.roles) != posted:
        raise RoutingMismatch("roles: destination/transit differ from the envelope's signed roles")
    if header.labels.target is not None:
        raise RoutingMismatch("parent: a pre-notification names no reply target")


def _check_detail_target(header: EnvelopeHeader, row: Prenotification) -> None:
    """A detail (amendment, findings) names its pre-notification as its signed reply target."""
    expected = (
        wire.MessageRef(row.sender_device_id, row.id) if row.sender_device_id is not None else None
    )
    if header.labels.reply_to is None or header.labels.reply_to != expected:
        raise RoutingMismatch("parent: the detail names another reply target than this one")


async def _live_roles(
    session: AsyncSession, *, group_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rows = await session.execute(
        select(Membership.user_id, Membership.role).where(
            Membership.group_id == group_id,
            Membership.removed_at.is_(None),
            Membership.user_id.in_(list(user_ids)),
        )
    )
    return {user_id: str(role) for user_id, role in rows}


async def _coordinators(session: AsyncSession, *, group_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(
        select(Membership.user_id).where(
            Membership.group_id == group_id,
            Membership.removed_at.is_(None),
            Membership.role == GroupRole.COORDINATOR,
        )
    )
    return set(rows)


async def _addressees(
    session: AsyncSession, *, access: GroupAccess, pn_in: PrenotificationCreate
) -> dict[uuid.UUID, str]:
    """Addressed user -> capacity, after checking every one is a member who may take part."""
    destination, transit = set(pn_in.destination), set(pn_in.transit)
    if destination & transit:
        raise InvalidRecipients("A user cannot be both a destination and a transit member.")
    if access.user.id in destination | transit:
        raise InvalidRecipients("The sender cannot address themselves.")
    roles = await _live_roles(session, group_id=access.group.id, user_ids=destination | transit)
    missing = sorted(str(u) for u in destination | transit if u not in roles)
    if missing:
        raise RecipientNotMember(
            f"Not members of this group: {', '.join(missing)}.", user_ids=missing
        )
    observers = sorted(str(u) for u, role in roles.items() if role == GroupRole.OBSERVER)
    if observers:
        raise InvalidRecipients(
            f"Observers cannot be a destination or transit: {', '.join(observers)}."
        )
    people = dict.fromkeys(destination, DESTINATION) | dict.fromkeys(transit, TRANSIT)
    for coordinator in await _coordinators(session, group_id=access.group.id):
        if coordinator != access.user.id:
            people.setdefault(coordinator, COORDINATOR)
    return people


async def _check_wraps(
    session: AsyncSession,
    *,
    access: GroupAccess,
    people: dict[uuid.UUID, str],
    devices: Iterable[uuid.UUID],
    sender_id: uuid.UUID | None,
    complete: bool,
) -> None:
    """Envelope devices belong to addressed users (or the sender); each addressee is reached."""
    owners = [*people, *([sender_id] if sender_id else [])]
    live = await queries.live_devices(session, group_id=access.group.id, user_ids=owners)
    allowed = set().union(*live.values()) if live else set()
    wrapped = set(devices)
    stray = sorted(str(d) for d in wrapped - allowed)
    if stray:
        raise InvalidRecipients(
            f"The envelope is wrapped to devices of users it is not addressed to: "
            f"{', '.join(stray)}."
        )
    if not complete:
        return
    for user_id, capacity in sorted(people.items(), key=lambda p: str(p[0])):
        if live.get(user_id) and not live[user_id] & wrapped:
            error = CoordinatorsMissing if capacity == COORDINATOR else InvalidRecipients
            raise error(f"The envelope does not reach {capacity} {user_id}.", user_id=str(user_id))


async def create(
    session: AsyncSession, *, access: GroupAccess, device: Device, pn_in: PrenotificationCreate
) -> Prenotification:
    """Check envelope, template and routing, then store the record and its stream item."""
    groups_service.ensure_writable(access.group, GroupWrite.CONTENT)
    header = _envelope(pn_in.envelope, access=access, device=device)
    await templates_service.ensure_known(
        session,
        group_id=access.group.id,
        template_id=pn_in.template_id,
        version=pn_in.template_version,
    )
    await messages_service.lock_stream(session, group_id=access.group.id)
    if await session.get(Prenotification, header.message_id) is not None:
        raise DuplicatePrenotification(f"Pre-notification {header.message_id} already exists.")
    people = await _addressees(session, access=access, pn_in=pn_in)
    await _check_wraps(
        session,
        access=access,
        people=people,
        devices=header.recipients,
        sender_id=access.user.id,
        complete=True,
    )
    _check_roles(header, pn_in)
    item = await messages_service.append(
        session,
        group_id=access.group.id,
        kind=MessageKind.PRENOTIFICATION,
        envelope=pn_in.envelope,
        sender_user_id=access.user.id,
        sender_device_id=device.id,
        recipients=list(header.recipients),
        client_msg_id=str(header.message_id),
    )
    now = utcnow()
    row = Prenotification(
        id=header.message_id,
        group_id=access.group.id,
        sender_user_id=access.user.id,
        sender_device_id=device.id,
        template_id=pn_in.template_id,
        template_version=pn_in.template_version,
        status=Status.SENT,
        event_count=1,
        stream_seq=item.seq,
        eta=pn_in.eta,
        sent_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    session.add_all(
        PrenotificationRecipient(prenotification_id=row.id, user_id=u, role=r)
        for u, r in people.items()
    )
    session.add(
        PrenotificationEvent(
            prenotification_id=row.id,
            seq=0,
            from_status=None,
            to_status=Status.SENT,
            actor_user_id=access.user.id,
            actor_device_id=device.id,
            ts=header.ts,
            signature=header.signature,
            detail_seq=None,
            stream_seq=item.seq,
            created_at=now,
        )
    )
    await session.commit()
    return row


def _capacities(
    row: Prenotification, people: list[PrenotificationRecipient], access: GroupAccess
) -> set[Capacity]:
    held = set()
    if row.sender_user_id == access.user.id:
        held.add(Capacity.SENDER)
    if any(p.user_id == access.user.id and p.role == DESTINATION for p in people):
        held.add(Capacity.DESTINATION)
    if access.role == GroupRole.COORDINATOR:
        held.add(Capacity.COORDINATOR)
    return held


def _check_move(row: Prenotification, tr_in: TransitionCreate, held: set[Capacity]) -> None:
    if tr_in.from_status != row.status or tr_in.seq != row.event_count:
        raise StatusChanged(
            f"The pre-notification is now {row.status} at event {row.event_count}.",
            current_status=row.status,
            event_count=row.event_count,
        )
    refusal = check(Status(row.status), tr_in.to_status, held)
    if refusal == Refusal.OUT_OF_ORDER:
        raise InvalidTransition(
            f"A pre-notification cannot go from {row.status} to {tr_in.to_status.value}."
        )
    if refusal == Refusal.NOT_ALLOWED:
        raise TransitionNotAllowed(
            f"You may not move it from {row.status} to {tr_in.to_status.value}."
        )
    if tr_in.to_status in DETAIL_REQUIRED and tr_in.detail_envelope is None:
        raise DetailRequired(f"{tr_in.to_status.value} needs an encrypted detail envelope.")


def _event_payload(row: Prenotification, event: PrenotificationEvent) -> bytes:
    """The server-written stream item of an event: routing fields and the signature only."""
    body = {
        "prenotification_id": str(row.id),
        "seq": event.seq,
        "from": event.from_status,
        "to": event.to_status,
        "actor_user_id": str(event.actor_user_id),
        "actor_device_id": str(event.actor_device_id),
        "ts": event.ts,
        "detail_seq": event.detail_seq,
        "sig": event.signature.hex(),
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def transition(
    session: AsyncSession,
    *,
    access: GroupAccess,
    device: Device,
    prenotification_id: uuid.UUID,
    tr_in: TransitionCreate,
) -> Prenotification:
    """Apply one signed status change if the state and the caller's capacity allow it."""
    groups_service.ensure_writable(access.group, GroupWrite.CONTENT)
    await messages_service.lock_stream(session, group_id=access.group.id)
    row = await queries.get(session, access=access, prenotification_id=prenotification_id)
    people = (await queries.recipients(session, prenotification_ids=[row.id]))[row.id]
    _check_move(row, tr_in, _capacities(row, people, access))
    message = event_signing_input(
        group_id=access.group.id,
        prenotification_id=row.id,
        seq=tr_in.seq,
        from_status=tr_in.from_status.value,
        to_status=tr_in.to_status.value,
        ts=tr_in.ts,
        detail=tr_in.detail_envelope,
    )
    try:
        verify_signature(device.signing_key, tr_in.signature, message, "signature")
    except FormatError as exc:
        raise InvalidSignature(str(exc)) from None
    roles = {p.user_id: p.role for p in people}
    detail_seq = None
    if tr_in.detail_envelope is not None:
        header = _envelope(tr_in.detail_envelope, access=access, device=device)
        await _check_wraps(
            session,
            access=access,
            people=roles,
            devices=header.recipients,
            sender_id=row.sender_user_id,
            complete=False,
        )
        _check_detail_target(header, row)
        detail = await messages_service.append(
            session,
            group_id=access.group.id,
            kind=MessageKind.PRENOTIFICATION,
            envelope=tr_in.detail_envelope,
            sender_user_id=access.user.id,
            sender_device_id=device.id,
            recipients=list(header.recipients),
            client_msg_id=str(header.message_id),
            parent_seq=row.stream_seq,
        )
        detail_seq = detail.seq
    owners = [*roles, *([row.sender_user_id] if row.sender_user_id else []), access.user.id]
    live = await queries.live_devices(session, group_id=access.group.id, user_ids=owners)
    now = utcnow()
    event = PrenotificationEvent(
        prenotification_id=row.id,
        seq=tr_in.seq,
        from_status=row.status,
        to_status=tr_in.to_status,
        actor_user_id=access.user.id,
        actor_device_id=device.id,
        ts=tr_in.ts,
        signature=tr_in.signature,
        detail_seq=detail_seq,
        created_at=now,
    )
    item = await messages_service.append(
        session,
        group_id=access.group.id,
        kind=MessageKind.PRENOTIFICATION_EVENT,
        envelope=_event_payload(row, event),
        sender_user_id=access.user.id,
        sender_device_id=device.id,
        recipients=sorted(set().union(*live.values()), key=str),
        parent_seq=row.stream_seq,
    )
    event.stream_seq = item.seq
    session.add(event)
    row.status = tr_in.to_status
    row.event_count = tr_in.seq + 1
    row.updated_at = now
    setattr(row, TIMESTAMP_FIELD[tr_in.to_status], now)
    await session.commit()
    return row
