"""Request and response bodies of the template registry."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.core.schemas import InputModel, ReadModel


class TemplatePublish(InputModel):
    """A signed template document (docs/PROTOCOL.md §12), exactly as the coordinator signed it."""

    document: dict[str, Any]


class TemplateVersionRead(ReadModel):
    """What the server knows of one published version: ids, signer and time."""

    template_id: str
    version: int
    signer_device_id: uuid.UUID | None
    published_by_id: uuid.UUID | None
    created_at: datetime


class TemplateDocumentRead(TemplateVersionRead):
    """One version with its signed document, for clients to verify and use."""

    document: dict[str, Any]


class TemplateList(BaseModel):
    """The group's published versions, oldest first per template, plus the built-ins."""

    builtins: list[dict[str, Any]]
    items: list[TemplateVersionRead]
