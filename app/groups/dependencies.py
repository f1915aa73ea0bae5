"""THE authorisation path for every group-scoped route: membership, then role, then what
the group accepts in its status.

A route takes one of the `Group*` aliases below. A caller who is not a live member gets the
same `group.not_found` 404 as for a group that does not exist, so group ids leak nothing; a
member whose role is too low gets `group.role_required` 403; a write the group's status
refuses (`app.groups.status`: content in a closed group, anything in an archived one) gets
`group.read_only` 409.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep
from app.core.routing import raises
from app.groups import service
from app.groups.exceptions import GroupNotFound, GroupRoleRequired
from app.groups.models import Group, GroupRole
from app.groups.service import GroupAccess
from app.groups.status import GroupWrite, ensure_accepts
from app.invitations import service as invitations_service
from app.invitations.exceptions import MalformedInvitation
from app.invitations.models import GroupInvitation
from app.service_accounts import scopes
from app.service_accounts.exceptions import OutOfScope
from app.users.models import User

ALL_ROLES = frozenset(GroupRole)
POSTING_ROLES = frozenset({GroupRole.COORDINATOR, GroupRole.CO_COORDINATOR, GroupRole.MEMBER})
COORDINATING_ROLES = frozenset({GroupRole.COORDINATOR, GroupRole.CO_COORDINATOR})


@raises(GroupNotFound, OutOfScope)
async def group_access(
    group_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> GroupAccess:
    """The caller's membership of the group in the path, or a 404 indistinguishable from
    absence; a service account outside its scoped groups gets `service_account.out_of_scope`,
    and its access carries its operations for the checks further down (`check_post`)."""
    scopes.check_group(principal.service, group_id=group_id)
    access = await service.find_access(session, group_id=group_id, user=principal.user)
    if access is None:
        raise GroupNotFound()
    if principal.service is not None:
        return replace(access, operations=frozenset(principal.service.operations))
    return access


def check_role(access: GroupAccess, allowed: frozenset[GroupRole]) -> None:
    """The role half of the path (`group.role_required` 403), for the one route served
    outside FastAPI's dependencies too (`app.messages.posting`)."""
    if access.role not in allowed:
        raise GroupRoleRequired(
            f"This needs one of: {', '.join(sorted(r.value for r in allowed))}."
        )


def check_status(access: GroupAccess, write: GroupWrite | None) -> None:
    """The status half of the path (`group.read_only` 409); None for reads and for the
    lifecycle route, which has its own transitions."""
    if write is not None:
        ensure_accepts(access.group.status, write)


def require_group_role(
    allowed: frozenset[GroupRole], write: GroupWrite | None = None
) -> Callable[[GroupAccess], Awaitable[GroupAccess]]:
    """Build the dependency that admits only the given roles, for a write of the given kind;
    the table-driven tests read `allowed_roles` and `write` to know what each route should
    answer to whom and in which status."""

    @raises(GroupRoleRequired)
    async def dependency(
        access: Annotated[GroupAccess, Depends(group_access)],
    ) -> GroupAccess:
        check_role(access, allowed)
        check_status(access, write)
        return access

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    dependency.write = write  # type: ignore[attr-defined]
    return dependency


COORDINATOR_ONLY = frozenset({GroupRole.COORDINATOR})

GroupReader = Annotated[GroupAccess, Depends(require_group_role(ALL_ROLES))]
GroupParticipant = Annotated[GroupAccess, Depends(require_group_role(ALL_ROLES, GroupWrite.MANAGE))]
GroupPoster = Annotated[GroupAccess, Depends(require_group_role(POSTING_ROLES, GroupWrite.CONTENT))]
GroupCoordinating = Annotated[
    GroupAccess, Depends(require_group_role(COORDINATING_ROLES, GroupWrite.CONTENT))
]
GroupCoordinator = Annotated[
    GroupAccess, Depends(require_group_role(COORDINATOR_ONLY, GroupWrite.MANAGE))
]
GroupCoordinatorPublishing = Annotated[
    GroupAccess, Depends(require_group_role(COORDINATOR_ONLY, GroupWrite.CONTENT))
]
GroupLifecycle = Annotated[GroupAccess, Depends(require_group_role(COORDINATOR_ONLY))]


@dataclass(frozen=True)
class InviteeAccess:
    """A caller holding an open invitation of the group (member or not yet)."""

    invitation: GroupInvitation
    user: User


async def invitee_access(
    group_id: uuid.UUID, invitation_id: str, session: SessionDep, principal: CurrentPrincipal
) -> InviteeAccess:
    """The invitation in the path is the capability; without an open one, the group's 404."""
    scopes.check_group(principal.service, group_id=group_id)
    try:
        raw = invitations_service.parse_invitation_id(invitation_id)
    except MalformedInvitation:
        raise GroupNotFound() from None
    found = await invitations_service.find_open(session, group_id=group_id, invitation_id=raw)
    if found is None:
        raise GroupNotFound()
    group = await session.get(Group, group_id)
    if group is None:
        raise GroupNotFound()
    ensure_accepts(group.status, GroupWrite.MANAGE)
    return InviteeAccess(invitation=found, user=principal.user)


GroupInvitee = Annotated[InviteeAccess, Depends(invitee_access)]
