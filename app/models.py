"""Imports every domain's ORM models so `Base.metadata` is complete (Alembic, tests)."""

from app.auth.models import AccessToken, LoginFailure
from app.devices.models import Device
from app.groups.models import Group, Membership, MembershipEvent
from app.invitations.models import GroupInvitation, JoinRequest
from app.keys.models import DevicePrekey, GroupLogEntry, MemberKey
from app.library.models import Blob, BlobSegment, BlobUpload, Document, DocumentVersion, Upload
from app.messages.models import GroupStream, Receipt, StreamItem
from app.organisations.models import Organisation
from app.prenotifications.models import (
    Prenotification,
    PrenotificationEvent,
    PrenotificationRecipient,
)
from app.service_accounts.models import ServiceAccount
from app.templates.models import GroupTemplate
from app.users.models import EnrolmentCode, User

__all__ = [
    "AccessToken",
    "Blob",
    "BlobSegment",
    "BlobUpload",
    "Device",
    "DevicePrekey",
    "Document",
    "DocumentVersion",
    "EnrolmentCode",
    "Group",
    "GroupStream",
    "GroupTemplate",
    "GroupInvitation",
    "GroupLogEntry",
    "JoinRequest",
    "LoginFailure",
    "Membership",
    "MemberKey",
    "MembershipEvent",
    "Organisation",
    "Prenotification",
    "PrenotificationEvent",
    "PrenotificationRecipient",
    "Receipt",
    "ServiceAccount",
    "StreamItem",
    "Upload",
    "User",
]
