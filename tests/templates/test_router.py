"""The group template registry through the API: publish, list, fetch, refuse."""

import uuid

import httpx
from cordon_client.templates.registry import TemplateRegistry, sign_template
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.prenotifications import helpers as h
from tests.templates.test_signed import upgraded


def _document(group_id: str, actor: f.Actor, version: int = 2, **changes: object) -> dict:
    assert actor.signing_key is not None
    body = upgraded(version)
    body.update(changes)
    return sign_template(
        body, group_id=uuid.UUID(group_id), signing_key=actor.signing_key, ts=1_700_000_000_000
    )


async def test_coordinator_publishes_and_members_fetch_and_verify(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A published version is listed and returned byte-for-byte verifiable by clients."""
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/templates"
    document = _document(g.group_id, g.coordinator)
    r = await client.post(url, headers=g.coordinator.headers, json={"document": document})
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["signer_device_id"] == g.coordinator.device_id
    listed = (await client.get(url, headers=g.observer.headers)).json()
    assert [(i["template_id"], i["version"]) for i in listed["items"]] == [("seizure-case", 2)]
    assert {"template_id": "seizure-case", "version": 1} in listed["builtins"]
    r = await client.get(f"{url}/seizure-case/versions/2", headers=g.member.headers)
    assert r.status_code == 200 and r.json()["document"] == document
    key = g.coordinator.signing_key
    assert key is not None
    registry = TemplateRegistry()
    registry.add_signed(
        r.json()["document"],
        group_id=uuid.UUID(g.group_id),
        trusted_keys=[key.public_key().public_bytes_raw()],
    )
    assert registry.versions("seizure-case") == [1, 2]
    missing = await client.get(f"{url}/seizure-case/versions/3", headers=g.member.headers)
    f.assert_problem(missing, 404, "template.not_found")


async def test_versions_only_grow(client: httpx.AsyncClient, session: AsyncSession):
    """A duplicate version, a built-in version, or an older version is a conflict."""
    g = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/templates"
    headers = g.coordinator.headers
    assert (
        await client.post(
            url, headers=headers, json={"document": _document(g.group_id, g.coordinator, 3)}
        )
    ).status_code == 201
    for version, code in (
        (3, "template.version_exists"),
        (2, "template.version_not_newer"),
        (1, "template.version_exists"),
    ):
        r = await client.post(
            url, headers=headers, json={"document": _document(g.group_id, g.coordinator, version)}
        )
        f.assert_problem(r, 409, code)


async def test_forged_or_foreign_documents_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Tampered bodies, another group's document, or a key that is not the caller's device."""
    g = await f.group_with_roles(client, session)
    other = await f.group_with_roles(client, session)
    url = f"/api/v1/groups/{g.group_id}/templates"
    tampered = _document(g.group_id, g.coordinator)
    tampered["template"]["title"]["en"] = "Changed after signing"
    foreign = _document(other.group_id, g.coordinator)
    by_member_key = _document(g.group_id, g.member)
    floats = _document(g.group_id, g.coordinator)
    floats["template"]["forms"]["full"]["properties"]["x"] = {"minimum": 0.5}
    for document in (tampered, foreign, by_member_key, floats, {"v": 1}):
        r = await client.post(url, headers=g.coordinator.headers, json={"document": document})
        f.assert_problem(r, 422, "template.invalid")
    assert (await client.get(url, headers=g.member.headers)).json()["items"] == []


async def test_prenotifications_accept_published_versions_only(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Once v2 of a template is published, messages may name it; v3 stays unknown."""
    s = await h.shipment(client, session)
    url = f"/api/v1/groups/{s.group_id}/templates"
    document = _document(s.group_id, s.coordinator, 2, id="vaccine-prenotification")
    r = await client.post(url, headers=s.coordinator.headers, json={"document": document})
    assert r.status_code == 201, r.text
    pn = await h.send(client, s, template_version=2)
    assert pn["template_version"] == 2
    r = await client.post(
        s.url, headers=s.sender.headers, json=h.create_body(s, template_version=3)
    )
    f.assert_problem(r, 422, "template.unknown_version")
