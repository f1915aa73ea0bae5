"""Request and response bodies for users and enrolment."""

import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import InputModel, ReadModel
from app.users.models import PlatformRole

Username = str
MIN_PASSWORD = 12


class UserCreate(InputModel):
    organisation_id: uuid.UUID
    username: Username = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    display_name: str = Field(min_length=1, max_length=200)
    platform_role: PlatformRole = PlatformRole.USER
    is_ncp: bool = False


class UserRead(ReadModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    username: str
    display_name: str
    platform_role: PlatformRole
    is_ncp: bool
    is_service: bool = False
    totp_enabled: bool
    disabled_at: datetime | None
    created_at: datetime


class EnrolmentCodeRead(ReadModel):
    code: str
    expires_at: datetime


class UserCreated(ReadModel):
    user: UserRead
    enrolment: EnrolmentCodeRead


class EnrolmentInspect(InputModel):
    code: str = Field(min_length=8, max_length=128)


class EnrolmentInfo(ReadModel):
    username: str
    display_name: str
    totp_required: bool
    totp_secret: str | None = None
    otpauth_uri: str | None = None


class EnrolmentComplete(InputModel):
    code: str = Field(min_length=8, max_length=128)
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    totp_code: str | None = Field(default=None, pattern=r"^\d{6}$")
