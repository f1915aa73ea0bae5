"""Who is in a group, as a person reads it: the verified roster decides who is a member, with
which role and devices; the server's directory only puts names on the user ids it certified.

A name is a label the server could get wrong, so it never makes anyone a member: a user the
server lists but the signed log does not certify is shown as not certified, and a certified
member the server does not list keeps their id as their name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cordon_client.crypto import Roster

SERVICE_MARK = "service account"


@dataclass(frozen=True, slots=True)
class GroupMember:
    """One member: certified facts from the signed log, labels from the directory."""

    user_id: uuid.UUID
    username: str
    display_name: str
    organisation: str
    country_code: str
    role: str  # the server's role (coordinator, co_coordinator, member, observer)
    certified: bool  # in the verified signed log with a member key
    devices: tuple[uuid.UUID, ...]  # devices certified in the log
    is_service: bool  # a machine account (an import), as the directory marks it

    @property
    def label(self) -> str:
        """`Display Name (Organisation, CC)`, `Display Name (service account, Organisation,
        CC)` for a machine account (members must tell an import from an officer), or the
        user id when the directory has no name."""
        if not self.display_name:
            return str(self.user_id)
        kind = SERVICE_MARK if self.is_service else ""
        where = ", ".join(p for p in (kind, self.organisation, self.country_code) if p)
        return f"{self.display_name} ({where})" if where else self.display_name


def merge(roster: Roster, listing: Iterable[Mapping[str, Any]]) -> list[GroupMember]:
    """The roster's members named from the server's listing, certified ones first."""
    listed = {uuid.UUID(str(row["user_id"])): row for row in listing}
    out: list[GroupMember] = []
    for user_id, member in roster.members.items():
        row = listed.pop(user_id, {})
        out.append(
            GroupMember(
                user_id=user_id,
                username=str(row.get("username", "")),
                display_name=str(row.get("display_name", "")),
                organisation=str(row.get("organisation", "")),
                country_code=str(row.get("country_code", "")),
                role=str(row.get("role") or member.role),
                certified=True,
                devices=tuple(member.devices),
                is_service=bool(row.get("is_service", False)),
            )
        )
    for user_id, row in listed.items():
        out.append(
            GroupMember(
                user_id=user_id,
                username=str(row.get("username", "")),
                display_name=str(row.get("display_name", "")),
                organisation=str(row.get("organisation", "")),
                country_code=str(row.get("country_code", "")),
                role=str(row.get("role", "")),
                certified=False,
                devices=(),
                is_service=bool(row.get("is_service", False)),
            )
        )
    return out
