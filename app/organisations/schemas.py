"""Request and response bodies for organisations."""

import uuid
from datetime import datetime

from pydantic import Field

from app.core.codes import CountryCode, Region
from app.core.schemas import InputModel, ReadModel


class OrganisationCreate(InputModel):
    name: str = Field(min_length=2, max_length=200)
    country_code: CountryCode
    region: Region


class OrganisationRead(ReadModel):
    id: uuid.UUID
    name: str
    country_code: str
    region: Region
    created_at: datetime
