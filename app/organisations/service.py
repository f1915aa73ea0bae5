"""Creating and reading member administrations."""

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.exceptions import OrganisationNameTaken, OrganisationNotFound
from app.organisations.models import Organisation
from app.organisations.schemas import OrganisationCreate


async def get(session: AsyncSession, *, organisation_id: uuid.UUID) -> Organisation:
    """The organisation, or `organisation.not_found`."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise OrganisationNotFound()
    return organisation


async def get_by_name(session: AsyncSession, *, name: str) -> Organisation:
    """Look an organisation up by its exact name (the admin CLI's handle)."""
    organisation = await session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise OrganisationNotFound(f"No organisation named {name!r}.")
    return organisation


async def get_all(
    session: AsyncSession, *, after_name: str | None, limit: int
) -> list[Organisation]:
    """Organisations ordered by name, for cursor paging."""
    query = select(Organisation).order_by(Organisation.name).limit(limit)
    if after_name is not None:
        query = query.where(Organisation.name > after_name)
    return list(await session.scalars(query))


async def create(session: AsyncSession, *, organisation_in: OrganisationCreate) -> Organisation:
    """Register an administration; names are unique regardless of case."""
    taken = await session.scalar(
        select(Organisation.id).where(func.lower(Organisation.name) == organisation_in.name.lower())
    )
    if taken is not None:
        raise OrganisationNameTaken(f"An organisation named {organisation_in.name!r} exists.")
    organisation = Organisation(
        name=organisation_in.name,
        country_code=organisation_in.country_code,
        region=organisation_in.region.value,
    )
    session.add(organisation)
    try:
        await session.commit()
    except IntegrityError:  # a race, or a case SQLite's lower() leaves alone (non-ASCII)
        await session.rollback()
        raise OrganisationNameTaken(
            f"An organisation named {organisation_in.name!r} exists."
        ) from None
    return organisation
