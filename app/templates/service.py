"""Publishing and reading a group's template versions.

Versions of one template id only grow: a new version must be above every version the group
already has (and above the built-in version 1 for built-in ids), so existing messages keep
the exact version they were written in.
"""

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.devices.models import Device
from app.groups import service as groups_service
from app.groups.service import GroupAccess
from app.groups.status import GroupWrite
from app.keys.protocol import FormatError
from app.templates.document import BUILTINS, parse_signed_template
from app.templates.exceptions import (
    InvalidSignedTemplate,
    TemplateNotFound,
    TemplateVersionExists,
    TemplateVersionNotNewer,
    UnknownTemplateVersion,
)
from app.templates.models import GroupTemplate

MAX_DOCUMENT_CHARS = 512 * 1024


async def create(
    session: AsyncSession, *, access: GroupAccess, device: Device, document: dict[str, Any]
) -> GroupTemplate:
    """Store a coordinator-signed version after checking its signature and version order."""
    groups_service.ensure_writable(access.group, GroupWrite.CONTENT)
    try:
        signed = parse_signed_template(document, group_id=access.group.id)
    except FormatError as exc:
        raise InvalidSignedTemplate(str(exc)) from None
    if signed.signer != device.signing_key:
        raise InvalidSignedTemplate("signer: must be the signing key of the publishing device")
    if len(signed.canonical) > MAX_DOCUMENT_CHARS:
        raise InvalidSignedTemplate(f"document: larger than {MAX_DOCUMENT_CHARS} characters")
    latest = await session.scalar(
        select(func.max(GroupTemplate.version)).where(
            GroupTemplate.group_id == access.group.id,
            GroupTemplate.template_id == signed.template_id,
        )
    )
    floor = max(latest or 0, 1 if (signed.template_id, 1) in BUILTINS else 0)
    if signed.version == floor or (signed.template_id, signed.version) in BUILTINS:
        raise TemplateVersionExists(f"{signed.template_id} v{signed.version} already exists.")
    if signed.version < floor:
        raise TemplateVersionNotNewer(
            f"{signed.template_id} is at v{floor}; publish v{floor + 1} or later."
        )
    row = GroupTemplate(
        group_id=access.group.id,
        template_id=signed.template_id,
        version=signed.version,
        document=signed.canonical,
        signer_key=signed.signer,
        signer_device_id=device.id,
        published_by_id=access.user.id,
    )
    session.add(row)
    await session.commit()
    return row


async def get_all(session: AsyncSession, *, group_id: uuid.UUID) -> list[GroupTemplate]:
    """Every published version of the group, by template id then version."""
    rows = await session.scalars(
        select(GroupTemplate)
        .where(GroupTemplate.group_id == group_id)
        .order_by(GroupTemplate.template_id, GroupTemplate.version)
    )
    return list(rows)


async def get(
    session: AsyncSession, *, group_id: uuid.UUID, template_id: str, version: int
) -> GroupTemplate:
    """One published version, or template.not_found."""
    row = await session.scalar(
        select(GroupTemplate).where(
            GroupTemplate.group_id == group_id,
            GroupTemplate.template_id == template_id,
            GroupTemplate.version == version,
        )
    )
    if row is None:
        raise TemplateNotFound(f"{template_id} v{version} is not published in this group.")
    return row


async def ensure_known(
    session: AsyncSession, *, group_id: uuid.UUID, template_id: str, version: int
) -> None:
    """Refuse a message that names a template version neither built in nor published here."""
    if (template_id, version) in BUILTINS:
        return
    found = await session.scalar(
        select(GroupTemplate.id).where(
            GroupTemplate.group_id == group_id,
            GroupTemplate.template_id == template_id,
            GroupTemplate.version == version,
        )
    )
    if found is None:
        raise UnknownTemplateVersion(
            f"template: {template_id} v{version} is neither built in nor published in this group."
        )
