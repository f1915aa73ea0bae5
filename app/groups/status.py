"""What a group accepts in each status: the rule `app.groups.dependencies` applies to every
group-scoped write (and the receipt path, whose body names the groups, applies the same).

| status   | content | receipts | management |
|----------|---------|----------|------------|
| planned  | yes     | yes      | yes        |
| active   | yes     | yes      | yes        |
| closed   | no      | yes      | yes        |
| archived | no      | no       | no         |

Content: alerts and messages, pre-notifications and their status events, library uploads and
withdrawals, templates. Management: members, roles, settings, membership-log entries.

A closed operation is over: its record stays readable and acknowledgeable, and its
coordinator may still change who holds it or reopen it (closed → active). Archived is final
and read-only. Status changes themselves follow `app.groups.service.TRANSITIONS`.
"""

from enum import StrEnum

from app.groups.exceptions import GroupReadOnly
from app.groups.models import GroupStatus


class GroupWrite(StrEnum):
    """The kinds of write a group may accept or refuse."""

    CONTENT = "content"
    RECEIPT = "receipt"
    MANAGE = "manage"


ACCEPTS: dict[GroupStatus, frozenset[GroupWrite]] = {
    GroupStatus.PLANNED: frozenset(GroupWrite),
    GroupStatus.ACTIVE: frozenset(GroupWrite),
    GroupStatus.CLOSED: frozenset({GroupWrite.RECEIPT, GroupWrite.MANAGE}),
    GroupStatus.ARCHIVED: frozenset(),
}

_REFUSALS = {
    GroupStatus.CLOSED: "The group is closed: it takes no new content (reopen it first).",
    GroupStatus.ARCHIVED: "The group is archived and read-only.",
}


def ensure_accepts(status: str, write: GroupWrite) -> None:
    """Raise `group.read_only` (409) when a group in `status` refuses this kind of write."""
    current = GroupStatus(status)
    if write not in ACCEPTS[current]:
        raise GroupReadOnly(_REFUSALS.get(current, "The group does not accept this now."))
