"""Routes for organisations: admins register them, every user can list them."""

import uuid

from fastapi import APIRouter, status

from app.auth.dependencies import AdminPrincipal, CurrentPrincipal
from app.core.deps import SessionDep
from app.core.pagination import Page, PageDep
from app.core.routing import CordonRoute
from app.organisations import service
from app.organisations.models import Organisation
from app.organisations.schemas import OrganisationCreate, OrganisationRead

router = APIRouter(route_class=CordonRoute)


@router.post("", response_model=OrganisationRead, status_code=status.HTTP_201_CREATED)
async def create_organisation(
    organisation_in: OrganisationCreate, session: SessionDep, _admin: AdminPrincipal
) -> Organisation:
    """Register a member administration."""
    return await service.create(session, organisation_in=organisation_in)


@router.get("", response_model=Page[OrganisationRead])
async def list_organisations(
    session: SessionDep, _principal: CurrentPrincipal, page: PageDep
) -> Page[OrganisationRead]:
    """All member administrations, by name."""
    rows = await service.get_all(session, after_name=page.position("orgs"), limit=page.limit)
    return Page(
        items=[OrganisationRead.model_validate(o) for o in rows],
        next_cursor=page.next_cursor("orgs", rows, rows[-1].name if rows else None),
    )


@router.get("/{organisation_id}", response_model=OrganisationRead)
async def get_organisation(
    organisation_id: uuid.UUID, session: SessionDep, _principal: CurrentPrincipal
) -> Organisation:
    """One member administration."""
    return await service.get(session, organisation_id=organisation_id)
