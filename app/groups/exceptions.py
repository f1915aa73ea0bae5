"""Group errors.

Tree::

    NotFound     -> GroupNotFound            group.not_found (also for non-members)
    NotFound     -> MemberNotFound           group.member_not_found
    Forbidden    -> GroupRoleRequired        group.role_required
    Conflict     -> GroupNameTaken           group.name_taken
    Conflict     -> GroupReadOnly            group.read_only
    Conflict     -> AlreadyMember            group.already_member
    Conflict     -> LastCoordinator          group.last_coordinator
    InvalidInput -> InvalidTransition        group.invalid_transition
    InvalidInput -> CoordinatorNeedsTotp     group.coordinator_needs_totp
    InvalidInput -> InvalidRegionScope       group.invalid_region_scope
"""

from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class GroupNotFound(NotFound):
    code, title = "group.not_found", "Group not found"


class MemberNotFound(NotFound):
    code, title = "group.member_not_found", "Not a member of this group"


class GroupRoleRequired(Forbidden):
    code, title = "group.role_required", "Your role in this group does not allow this"


class GroupNameTaken(Conflict):
    code, title = "group.name_taken", "A group with that name exists"


class GroupReadOnly(Conflict):
    code, title = "group.read_only", "The group does not accept changes in its current state"


class AlreadyMember(Conflict):
    code, title = "group.already_member", "The user is already a member"


class LastCoordinator(Conflict):
    code, title = "group.last_coordinator", "A group must keep at least one coordinator"


class InvalidTransition(InvalidInput):
    code, title = "group.invalid_transition", "That status change is not allowed"


class CoordinatorNeedsTotp(InvalidInput):
    code, title = "group.coordinator_needs_totp", "Coordinators must have TOTP enabled"


class InvalidRegionScope(InvalidInput):
    code, title = "group.invalid_region_scope", "Only co-coordinators carry a region scope"
