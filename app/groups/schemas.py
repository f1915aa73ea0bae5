"""Request and response bodies for groups, members and the membership log."""

import uuid
from datetime import datetime

from pydantic import Field

from app.core.codes import Region
from app.core.schemas import InputModel, ReadModel
from app.groups.models import GroupRole, GroupStatus


class GroupCreate(InputModel):
    name: str = Field(min_length=2, max_length=200)
    description: str = Field(default="", max_length=4000)
    coordinator_id: uuid.UUID | None = None
    co_coordinators_publish: bool = True


class GroupUpdate(InputModel):
    description: str | None = Field(default=None, max_length=4000)
    co_coordinators_publish: bool | None = None


class GroupStatusChange(InputModel):
    status: GroupStatus


class GroupRead(ReadModel):
    id: uuid.UUID
    name: str
    description: str
    status: GroupStatus
    co_coordinators_publish: bool
    created_at: datetime


class MyGroupRead(GroupRead):
    my_role: GroupRole


class MemberAdd(InputModel):
    user_id: uuid.UUID
    role: GroupRole = GroupRole.MEMBER
    region: Region | None = None


class MemberUpdate(InputModel):
    role: GroupRole
    region: Region | None = None


class MemberRead(ReadModel):
    user_id: uuid.UUID
    role: GroupRole
    region: Region | None
    added_at: datetime


class RosterEntryRead(MemberRead):
    """A roster line: the membership and who holds it, with the directory's name and
    organisation (labels for people; clients decide membership from the signed log) and
    `is_service` marking a machine account (the audit of who posted)."""

    username: str
    display_name: str
    organisation_id: uuid.UUID
    organisation: str
    country_code: str
    is_service: bool


class MembershipEventRead(ReadModel):
    seq: int
    kind: str
    actor_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    role: GroupRole | None
    region: Region | None
    status: GroupStatus | None
    created_at: datetime
