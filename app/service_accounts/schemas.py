"""Request and response bodies for service accounts and their credential login."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from app.core.schemas import InputModel, ReadModel
from app.devices.schemas import DeviceCreate
from app.service_accounts.scopes import Operation
from app.users.schemas import Username

MAX_SCOPED_GROUPS = 64


def _unique(values: list[object]) -> list[object]:
    if len(set(values)) != len(values):
        raise ValueError("entries must not repeat")
    return values


class ServiceAccountCreate(InputModel):
    """A machine account of one organisation, scoped to named groups and operations."""

    organisation_id: uuid.UUID
    username: Username = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    display_name: str = Field(min_length=1, max_length=200)
    operations: Annotated[
        list[Operation], AfterValidator(_unique), Field(min_length=1, max_length=len(Operation))
    ]
    group_ids: Annotated[
        list[uuid.UUID], AfterValidator(_unique), Field(min_length=1, max_length=MAX_SCOPED_GROUPS)
    ]


class ServiceAccountRead(ReadModel):
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    username: str
    display_name: str
    operations: list[Operation]
    group_ids: list[uuid.UUID]
    created_by_id: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ServiceAccountCreated(ReadModel):
    """`credential` is shown here once; the server keeps only its keyed digest."""

    service_account: ServiceAccountRead
    credential: str


class ServiceLogin(InputModel):
    """The credential, on an existing device of the account or with a new device's keys."""

    credential: str = Field(min_length=16, max_length=256)
    device_id: uuid.UUID | None = None
    device: DeviceCreate | None = None

    @model_validator(mode="after")
    def _one_device(self) -> "ServiceLogin":
        if (self.device_id is None) == (self.device is None):
            raise ValueError("give exactly one of device_id (existing) or device (new)")
        return self
