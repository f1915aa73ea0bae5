"""Routes of the group template registry."""

import json
from typing import Annotated

from fastapi import APIRouter, Path, status

from app.auth.dependencies import CurrentPrincipal
from app.core.deps import SessionDep
from app.core.routing import CordonRoute
from app.core.schemas import BoundedInt
from app.groups.dependencies import GroupCoordinatorPublishing, GroupReader
from app.templates import service
from app.templates.document import BUILTINS
from app.templates.models import GroupTemplate
from app.templates.schemas import (
    TemplateDocumentRead,
    TemplateList,
    TemplatePublish,
    TemplateVersionRead,
)

router = APIRouter(route_class=CordonRoute)


def _document(row: GroupTemplate) -> TemplateDocumentRead:
    read = TemplateVersionRead.model_validate(row)
    return TemplateDocumentRead(**read.model_dump(), document=json.loads(row.document))


@router.post(
    "/{group_id}/templates",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplateVersionRead,
)
async def publish_template(
    body: TemplatePublish,
    session: SessionDep,
    access: GroupCoordinatorPublishing,
    principal: CurrentPrincipal,
) -> TemplateVersionRead:
    """Publish a new, coordinator-signed version of a template for this group."""
    row = await service.create(
        session, access=access, device=principal.device, document=body.document
    )
    return TemplateVersionRead.model_validate(row)


@router.get("/{group_id}/templates", response_model=TemplateList)
async def list_templates(session: SessionDep, access: GroupReader) -> TemplateList:
    """The built-in versions and every version published in this group."""
    rows = await service.get_all(session, group_id=access.group.id)
    return TemplateList(
        builtins=[{"template_id": t, "version": v} for t, v in sorted(BUILTINS)],
        items=[TemplateVersionRead.model_validate(r) for r in rows],
    )


@router.get(
    "/{group_id}/templates/{template_id}/versions/{version}",
    response_model=TemplateDocumentRead,
)
async def get_template(
    template_id: str,
    version: Annotated[BoundedInt, Path(ge=1)],
    session: SessionDep,
    access: GroupReader,
) -> TemplateDocumentRead:
    """One published version with its signed document."""
    row = await service.get(
        session, group_id=access.group.id, template_id=template_id, version=version
    )
    return _document(row)
