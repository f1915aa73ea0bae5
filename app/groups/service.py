"""Groups, memberships and the ordered membership log.

Every membership, role or status change appends one event to the group's log in the same
transaction, with a gap-free `seq` taken by an atomic increment on the group row, so two
concurrent coordinators can never write the same position.
"""

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app import realtime
from app.core.types import utcnow
from app.groups.exceptions import (
    AlreadyMember,
    CoordinatorNeedsTotp,
    GroupNameTaken,
    GroupNotFound,
    InvalidRegionScope,
    InvalidTransition,
    LastCoordinator,
    MemberNotFound,
)
from app.groups.models import Group, GroupRole, GroupStatus, Membership, MembershipEvent
from app.groups.schemas import GroupCreate, GroupUpdate, MemberAdd, MemberUpdate, RosterEntryRead
from app.groups.status import GroupWrite, ensure_accepts
from app.messages import service as messages_service
from app.messages.models import MessageKind
from app.organisations.models import Organisation
from app.service_accounts.exceptions import NotAdmissible
from app.service_accounts.models import ServiceAccount
from app.users import service as users_service
from app.users.models import User

TRANSITIONS: dict[GroupStatus, set[GroupStatus]] = {
    GroupStatus.PLANNED: {GroupStatus.ACTIVE, GroupStatus.CLOSED},
    GroupStatus.ACTIVE: {GroupStatus.CLOSED},
    GroupStatus.CLOSED: {GroupStatus.ACTIVE, GroupStatus.ARCHIVED},
    GroupStatus.ARCHIVED: set(),
}


@dataclass(frozen=True)
class GroupAccess:
    """A group together with the caller's live membership in it (the authorisation result)."""

    group: Group
    membership: Membership
    user: User
    # A service account's granted operations (`app.service_accounts.scopes`); None: a person.
    operations: frozenset[str] | None = None

    @property
    def role(self) -> GroupRole:
        return GroupRole(self.membership.role)


# Built once, like auth's principal query: every group-scoped request runs it.
_ACCESS = (
    select(Group, Membership)
    .join(Membership, Membership.group_id == Group.id)
    .where(
        Group.id == bindparam("group_id"),
        Membership.user_id == bindparam("user_id"),
        Membership.removed_at.is_(None),
    )
)


async def find_access(
    session: AsyncSession, *, group_id: uuid.UUID, user: User
) -> GroupAccess | None:
    """The caller's live membership, or None: callers must not tell absent from forbidden."""
    row = (await session.execute(_ACCESS, {"group_id": group_id, "user_id": user.id})).first()
    if row is None:
        return None
    group, membership = row
    return GroupAccess(group=group, membership=membership, user=user)


async def get_by_name(session: AsyncSession, *, name: str) -> Group:
    """Look a group up by name, any case (the admin CLI's handle)."""
    group = await session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))
    if group is None:
        raise GroupNotFound(f"No group named {name!r}.")
    return group


async def get_for_user(session: AsyncSession, *, user: User) -> list[tuple[Group, str]]:
    """The groups the user belongs to, with their role in each."""
    rows = await session.execute(
        select(Group, Membership.role)
        .join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id, Membership.removed_at.is_(None))
        .order_by(Group.name)
    )
    return [(group, role) for group, role in rows]


async def _append_event(
    session: AsyncSession,
    *,
    group: Group,
    kind: str,
    actor: User | None,
    subject_id: uuid.UUID | None = None,
    role: str | None = None,
    region: str | None = None,
    status: str | None = None,
) -> MembershipEvent:
    seq = await session.scalar(
        update(Group)
        .where(Group.id == group.id)
        .values(membership_seq=Group.membership_seq + 1)
        .returning(Group.membership_seq)
    )
    assert seq is not None
    event = MembershipEvent(
        group_id=group.id,
        seq=seq,
        kind=kind,
        actor_id=actor.id if actor else None,
        subject_id=subject_id,
        role=role,
        region=region,
        status=status,
    )
    session.add(event)
    await _stream_event(session, event=event)
    return event


async def _stream_event(session: AsyncSession, *, event: MembershipEvent) -> None:
    """Membership changes travel on the group's stream too, so devices get them pushed and
    resume them with everything else (the envelope is the event itself, as JSON)."""
    payload = {
        "event_seq": event.seq,
        "kind": event.kind,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "subject_id": str(event.subject_id) if event.subject_id else None,
        "role": event.role,
        "region": event.region,
        "status": event.status,
    }
    await messages_service.append(
        session,
        group_id=event.group_id,
        kind=MessageKind.MEMBERSHIP,
        envelope=json.dumps(payload, separators=(",", ":")).encode(),
    )
    if event.kind == "member_added" and event.subject_id is not None:
        realtime.publish(session, realtime.Refresh(user_id=event.subject_id))
    elif event.kind == "member_removed" and event.subject_id is not None:
        realtime.publish(
            session, realtime.Kick(user_id=event.subject_id, reason="removed from a group")
        )


def ensure_writable(group: Group, write: GroupWrite = GroupWrite.MANAGE) -> None:
    """The group accepts this kind of write in its status (`app.groups.status`)."""
    ensure_accepts(group.status, write)


def _check_role_fields(user: User, role: GroupRole, region: str | None) -> None:
    if role == GroupRole.COORDINATOR and not user.totp_enabled:
        raise CoordinatorNeedsTotp(f"{user.username} must enable TOTP before coordinating.")
    if region is not None and role != GroupRole.CO_COORDINATOR:
        raise InvalidRegionScope()


async def _check_service_account(
    session: AsyncSession, *, user: User, group: Group, role: GroupRole
) -> None:
    """A service account is a plain member of the groups of its scope only, so what it can
    read never exceeds what its creator scoped it to (the coordinator still admits it)."""
    if not user.is_service:
        return
    scoped = await session.get(ServiceAccount, user.id)
    if scoped is None or scoped.revoked_at is not None or not scoped.allows_group(group.id):
        raise NotAdmissible(f"{user.username} is not scoped to this group.")
    if role != GroupRole.MEMBER:
        raise NotAdmissible(f"{user.username} is a service account: it can only be a member.")


async def create(session: AsyncSession, *, actor: User | None, group_in: GroupCreate) -> Group:
    """Open a group with its first coordinator (the creator unless another is named)."""
    taken = await session.scalar(
        select(Group.id).where(func.lower(Group.name) == group_in.name.lower())
    )
    if taken is not None:
        raise GroupNameTaken(f"A group named {group_in.name!r} exists.")
    coordinator_id = group_in.coordinator_id or (actor.id if actor else None)
    if coordinator_id is None:
        raise CoordinatorNeedsTotp("Name the group's first coordinator.")
    coordinator = await users_service.get(session, user_id=coordinator_id)
    _check_role_fields(coordinator, GroupRole.COORDINATOR, None)
    group = Group(
        name=group_in.name,
        description=group_in.description,
        co_coordinators_publish=group_in.co_coordinators_publish,
        created_by_id=actor.id if actor else None,
    )
    session.add(group)
    try:
        await session.flush()
    except IntegrityError:  # the same name in another case SQLite's lower() leaves alone
        await session.rollback()
        raise GroupNameTaken(f"A group named {group_in.name!r} exists.") from None
    await _append_event(
        session, group=group, kind="group_created", actor=actor, status=GroupStatus.PLANNED.value
    )
    session.add(
        Membership(group_id=group.id, user_id=coordinator.id, role=GroupRole.COORDINATOR.value)
    )
    await _append_event(
        session,
        group=group,
        kind="member_added",
        actor=actor,
        subject_id=coordinator.id,
        role=GroupRole.COORDINATOR.value,
    )
    await session.commit()
    await session.refresh(group)
    return group


async def update_group(
    session: AsyncSession, *, access: GroupAccess, group_in: GroupUpdate
) -> Group:
    """Change the description or the co-coordinators' publishing right."""
    group = access.group
    ensure_writable(group)
    if group_in.description is not None:
        group.description = group_in.description
    if group_in.co_coordinators_publish is not None:
        group.co_coordinators_publish = group_in.co_coordinators_publish
    await session.commit()
    return group


async def change_status(
    session: AsyncSession, *, access: GroupAccess, status: GroupStatus
) -> Group:
    """Move the group along its lifecycle; archived is final."""
    group = access.group
    current = GroupStatus(group.status)
    if status not in TRANSITIONS[current]:
        raise InvalidTransition(f"A {current} group cannot become {status}.")
    group.status = status.value
    await _append_event(
        session, group=group, kind="status_changed", actor=access.user, status=status.value
    )
    if status in (GroupStatus.CLOSED, GroupStatus.ARCHIVED):
        realtime.publish(session, realtime.Kick(group_id=group.id, reason=f"group {status.value}"))
    await session.commit()
    await session.refresh(group)
    return group


async def get_members(session: AsyncSession, *, group_id: uuid.UUID) -> list[RosterEntryRead]:
    """The live roster in order of admission, each with its account's name, organisation and
    whether it is a service account (one query)."""
    rows = await session.execute(
        select(Membership, User, Organisation)
        .join(User, User.id == Membership.user_id)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(Membership.group_id == group_id, Membership.removed_at.is_(None))
        .order_by(Membership.added_at, Membership.id)
    )
    return [
        RosterEntryRead(
            user_id=member.user_id,
            role=member.role,
            region=member.region,
            added_at=member.added_at,
            username=user.username,
            display_name=user.display_name,
            organisation_id=user.organisation_id,
            organisation=organisation.name,
            country_code=organisation.country_code,
            is_service=user.is_service,
        )
        for member, user, organisation in rows
    ]


async def _get_membership(
    session: AsyncSession, *, group_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.group_id == group_id, Membership.user_id == user_id)
    )


async def add_member(
    session: AsyncSession, *, access: GroupAccess, member_in: MemberAdd
) -> Membership:
    """Add a user with a role; a previously removed member is re-admitted."""
    group = access.group
    ensure_writable(group)
    user = await users_service.get(session, user_id=member_in.user_id)
    region = member_in.region.value if member_in.region else None
    _check_role_fields(user, member_in.role, region)
    await _check_service_account(session, user=user, group=group, role=member_in.role)
    membership = await _get_membership(session, group_id=group.id, user_id=user.id)
    if membership is not None and membership.removed_at is None:
        raise AlreadyMember()
    if membership is None:
        membership = Membership(
            group_id=group.id, user_id=user.id, role=member_in.role.value, region=region
        )
        session.add(membership)
    else:
        membership.role, membership.region = member_in.role.value, region
        membership.removed_at, membership.added_at = None, utcnow()
    await _append_event(
        session,
        group=group,
        kind="member_added",
        actor=access.user,
        subject_id=user.id,
        role=member_in.role.value,
        region=region,
    )
    await session.commit()
    return membership


async def _live_member(session: AsyncSession, *, group: Group, user_id: uuid.UUID) -> Membership:
    membership = await _get_membership(session, group_id=group.id, user_id=user_id)
    if membership is None or membership.removed_at is not None:
        raise MemberNotFound()
    return membership


async def _ensure_other_coordinator(
    session: AsyncSession, *, group: Group, membership: Membership
) -> None:
    if membership.role != GroupRole.COORDINATOR:
        return
    count = await session.scalar(
        select(func.count()).where(
            Membership.group_id == group.id,
            Membership.role == GroupRole.COORDINATOR.value,
            Membership.removed_at.is_(None),
        )
    )
    if (count or 0) <= 1:
        raise LastCoordinator()


async def update_member(
    session: AsyncSession, *, access: GroupAccess, user_id: uuid.UUID, member_in: MemberUpdate
) -> Membership:
    """Change a member's role (and a co-coordinator's region scope)."""
    group = access.group
    ensure_writable(group)
    membership = await _live_member(session, group=group, user_id=user_id)
    user = await users_service.get(session, user_id=user_id)
    region = member_in.region.value if member_in.region else None
    _check_role_fields(user, member_in.role, region)
    await _check_service_account(session, user=user, group=group, role=member_in.role)
    if member_in.role != GroupRole.COORDINATOR:
        await _ensure_other_coordinator(session, group=group, membership=membership)
    membership.role, membership.region = member_in.role.value, region
    await _append_event(
        session,
        group=group,
        kind="role_changed",
        actor=access.user,
        subject_id=user_id,
        role=member_in.role.value,
        region=region,
    )
    await session.commit()
    return membership


async def remove_member(session: AsyncSession, *, access: GroupAccess, user_id: uuid.UUID) -> None:
    """End a membership; the row stays for the audit trail."""
    group = access.group
    ensure_writable(group)
    membership = await _live_member(session, group=group, user_id=user_id)
    await _ensure_other_coordinator(session, group=group, membership=membership)
    membership.removed_at = utcnow()
    await _append_event(
        session, group=group, kind="member_removed", actor=access.user, subject_id=user_id
    )
    await session.commit()


async def get_events(
    session: AsyncSession, *, group_id: uuid.UUID, after_seq: int, limit: int
) -> list[MembershipEvent]:
    """The membership log in order, from just after `after_seq`."""
    rows = await session.scalars(
        select(MembershipEvent)
        .where(MembershipEvent.group_id == group_id, MembershipEvent.seq > after_seq)
        .order_by(MembershipEvent.seq)
        .limit(limit)
    )
    return list(rows)
