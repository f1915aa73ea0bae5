"""Organisations: validated against real code lists, unique, admin-only creation."""

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation
from tests import factories as f
from tests.factories import assert_problem


async def test_admin_registers_organisation(client: httpx.AsyncClient, session: AsyncSession):
    """Country codes are normalised to upper case; the region is a WCO region."""
    admin = await f.actor(client, session, admin=True, totp=True)
    r = await client.post(
        "/api/v1/organisations",
        headers=admin.headers,
        json={"name": "Kenya Customs", "country_code": "ke", "region": "ESA"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["country_code"] == "KE" and r.json()["region"] == "ESA"
    got = await client.get(f"/api/v1/organisations/{r.json()['id']}", headers=admin.headers)
    assert got.json()["name"] == "Kenya Customs"


async def test_invalid_codes_and_duplicates(client: httpx.AsyncClient, session: AsyncSession):
    """Unknown countries and regions are 422; a name taken in any case is 409; nothing added."""
    admin = await f.actor(client, session, admin=True, totp=True)
    before = await session.scalar(select(func.count()).select_from(Organisation))
    for body in (
        {"name": "Atlantis Customs", "country_code": "XX", "region": "EUR"},
        {"name": "Belgian Customs", "country_code": "BEL", "region": "EUR"},
        {"name": "Belgian Customs", "country_code": "BE", "region": "EU"},
        {"name": "Belgian Customs", "country_code": "BE", "region": "EUR", "vat": "x"},
    ):
        r = await client.post("/api/v1/organisations", headers=admin.headers, json=body)
        assert_problem(r, 422, "core.invalid_input")
    ok = {"name": "Belgian Customs", "country_code": "BE", "region": "EUR"}
    assert (
        await client.post("/api/v1/organisations", headers=admin.headers, json=ok)
    ).status_code == 201
    dup = {**ok, "name": "BELGIAN customs"}
    assert_problem(
        await client.post("/api/v1/organisations", headers=admin.headers, json=dup),
        409,
        "organisation.name_taken",
    )
    after = await session.scalar(select(func.count()).select_from(Organisation))
    assert after == (before or 0) + 1


async def test_only_admins_register(client: httpx.AsyncClient, session: AsyncSession):
    """An NCP may not register administrations."""
    ncp = await f.actor(client, session, ncp=True)
    r = await client.post(
        "/api/v1/organisations",
        headers=ncp.headers,
        json={"name": "Rogue", "country_code": "FR", "region": "EUR"},
    )
    assert_problem(r, 403, "auth.admin_required")


async def test_listing_pages_by_name(client: httpx.AsyncClient, session: AsyncSession):
    """Organisations come back by name, page by page, with no repeats."""
    me = await f.actor(client, session)
    for name in ("Zeta", "Alpha", "Mu"):
        await f.organisation(session, name=name)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/organisations", headers=me.headers, params=params)).json()
        seen += [o["name"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 4
    assert {"Alpha", "Mu", "Zeta"} <= set(seen)
