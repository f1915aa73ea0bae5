"""Sending pre-notifications through the API: routing, refusals, and nothing half-written."""

import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.messages.models import StreamItem
from app.prenotifications.models import Prenotification
from tests import factories as f
from tests.prenotifications import helpers as h


async def _nothing_written(session: AsyncSession) -> None:
    assert await session.scalar(select(func.count()).select_from(Prenotification)) == 0
    kinds = await session.scalars(select(StreamItem.kind))
    assert "prenotification" not in set(kinds)


async def test_send_records_routing_only(client: httpx.AsyncClient, session: AsyncSession):
    """The record names sender, recipients, template and status; coordinators are added."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    assert pn["status"] == "sent" and pn["event_count"] == 1
    assert pn["template_id"] == "vaccine-prenotification" and pn["template_version"] == 1
    roles = {r["user_id"]: r["role"] for r in pn["recipients"]}
    assert roles == {
        s.destination.id: "destination",
        s.transit.id: "transit",
        s.coordinator.id: "coordinator",
    }
    assert [e["to_status"] for e in pn["events"]] == ["sent"]
    assert pn["sender_user_id"] == s.sender.id and pn["sender_device_id"] == s.sender.device_id


async def test_addressed_parties_receive_it_and_no_one_else(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Destination, transit and coordinator read it; a bystander member neither syncs nor
    fetches it, and gets the same 404 as for a pre-notification that does not exist."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    for party in s.parties():
        items = await h.sync_items(client, party, s.group_id)
        assert [i["seq"] for i in items if i["kind"] == "prenotification"] == [pn["stream_seq"]]
        r = await client.get(f"{s.url}/{pn['id']}", headers=party.headers)
        assert r.status_code == 200
    for outsider in (s.bystander, s.group.co_coordinator, s.group.observer):
        items = await h.sync_items(client, outsider, s.group_id)
        assert not [i for i in items if i["kind"].startswith("prenotification")]
        missing = await client.get(f"{s.url}/{uuid.uuid4()}", headers=outsider.headers)
        r = await client.get(f"{s.url}/{pn['id']}", headers=outsider.headers)
        f.assert_problem(r, 404, "prenotification.not_found")
        assert r.json() == missing.json()
        listed = await client.get(s.url, headers=outsider.headers)
        assert listed.json()["items"] == []
        item = await client.get(
            f"/api/v1/groups/{s.group_id}/messages/{pn['stream_seq']}", headers=outsider.headers
        )
        assert item.status_code == 404


async def test_addressed_to_a_non_member_is_refused_and_nothing_written(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A destination outside the group is named in the error; no record, no stream item."""
    s = await h.shipment(client, session)
    body = h.create_body(s, destination=[s.group.outsider.id])
    r = await client.post(s.url, headers=s.sender.headers, json=body)
    problem = f.assert_problem(r, 422, "prenotification.recipient_not_member")
    assert s.group.outsider.id in str(problem["detail"])
    await _nothing_written(session)


async def test_observer_cannot_be_destination(client: httpx.AsyncClient, session: AsyncSession):
    """Observers read but never act, so they cannot be the destination of a shipment."""
    s = await h.shipment(client, session)
    body = h.create_body(s, transit=[s.group.observer.id])
    r = await client.post(s.url, headers=s.sender.headers, json=body)
    f.assert_problem(r, 422, "prenotification.invalid_recipients")
    await _nothing_written(session)


async def test_envelope_wrapped_to_a_bystander_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A wrap for a member the pre-notification is not addressed to breaks the routing rule."""
    s = await h.shipment(client, session)
    envelope = h.seal(s, s.sender, [*s.parties(), s.bystander])
    r = await client.post(s.url, headers=s.sender.headers, json=h.create_body(s, envelope))
    problem = f.assert_problem(r, 422, "prenotification.invalid_recipients")
    assert s.bystander.device_id in str(problem["detail"])
    await _nothing_written(session)


async def test_coordinators_must_be_reached(client: httpx.AsyncClient, session: AsyncSession):
    """Leaving the coordinator's devices out of the envelope is refused."""
    s = await h.shipment(client, session)
    envelope = h.seal(s, s.sender, [s.destination, s.transit])
    r = await client.post(s.url, headers=s.sender.headers, json=h.create_body(s, envelope))
    f.assert_problem(r, 422, "prenotification.coordinators_missing")
    await _nothing_written(session)


async def test_addressed_destination_must_be_reached(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A destination whose devices get no wrap could never read it: refused."""
    s = await h.shipment(client, session)
    envelope = h.seal(s, s.sender, [s.transit, s.coordinator])
    r = await client.post(s.url, headers=s.sender.headers, json=h.create_body(s, envelope))
    f.assert_problem(r, 422, "prenotification.invalid_recipients")


async def test_sender_cannot_address_themselves(client: httpx.AsyncClient, session: AsyncSession):
    """The sender is never their own destination; duplicates across roles are refused too."""
    s = await h.shipment(client, session)
    for body, code in (
        (h.create_body(s, destination=[s.sender.id]), "prenotification.invalid_recipients"),
        (h.create_body(s, transit=[s.destination.id]), "prenotification.invalid_recipients"),
        (
            h.create_body(s, destination=[s.destination.id, s.destination.id]),
            "core.invalid_input",
        ),
    ):
        r = await client.post(s.url, headers=s.sender.headers, json=body)
        f.assert_problem(r, 422, code)
    await _nothing_written(session)


async def test_unknown_template_version_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A template version neither built in nor published in the group is named and refused."""
    s = await h.shipment(client, session)
    r = await client.post(
        s.url, headers=s.sender.headers, json=h.create_body(s, template_version=7)
    )
    problem = f.assert_problem(r, 422, "template.unknown_version")
    assert "vaccine-prenotification v7" in str(problem["detail"])
    await _nothing_written(session)


async def test_bad_envelopes_are_refused(client: httpx.AsyncClient, session: AsyncSession):
    """Broadcast, forged, foreign-group, someone else's device, or garbage: all 422."""
    s = await h.shipment(client, session)
    forged = h.seal(s, s.sender, s.parties(), signing_key=f.new_device()[1])
    foreign = h.seal(s, s.sender, s.parties(), group_id=str(uuid.uuid4()))
    other_device = h.seal(s, s.destination, [s.sender, s.transit, s.coordinator])
    for envelope in (h.broadcast(s, s.sender), forged, foreign, other_device, b"CXM" + b"0" * 200):
        r = await client.post(s.url, headers=s.sender.headers, json=h.create_body(s, envelope))
        f.assert_problem(r, 422, "prenotification.invalid_envelope")
    await _nothing_written(session)


async def test_resending_the_same_envelope_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A pre-notification id (its envelope's message id) is used once."""
    s = await h.shipment(client, session)
    envelope = h.seal(s, s.sender, s.parties())
    await h.send(client, s, envelope=envelope)
    r = await client.post(s.url, headers=s.sender.headers, json=h.create_body(s, envelope))
    f.assert_problem(r, 409, "prenotification.duplicate")


async def test_observers_cannot_send(client: httpx.AsyncClient, session: AsyncSession):
    """Sending is for posting roles; an observer gets the group's role error."""
    s = await h.shipment(client, session)
    envelope = h.seal(s, s.group.observer, s.parties())
    r = await client.post(s.url, headers=s.group.observer.headers, json=h.create_body(s, envelope))
    f.assert_problem(r, 403, "group.role_required")


async def test_list_filters(client: httpx.AsyncClient, session: AsyncSession):
    """Status, sender, recipient, disclosed ETA and overdue filter on routing metadata only."""
    s = await h.shipment(client, session)
    late = await h.send(client, s, eta="2000-01-01T00:00:00Z")
    future = await h.send(client, s, eta="2999-01-01T00:00:00Z")
    undisclosed = await h.send(client, s)
    r = await h.move(client, s, s.destination, future, "acknowledged")
    assert r.status_code == 201, r.text

    async def ids(who: f.Actor, **params: object) -> set[str]:
        resp = await client.get(s.url, headers=who.headers, params=params)
        assert resp.status_code == 200, resp.text
        return {i["id"] for i in resp.json()["items"]}

    everything = {late["id"], future["id"], undisclosed["id"]}
    assert await ids(s.coordinator) == everything
    assert await ids(s.transit) == everything
    assert await ids(s.destination, status="sent") == {late["id"], undisclosed["id"]}
    assert await ids(s.destination, status=["acknowledged", "cleared"]) == {future["id"]}
    assert await ids(s.coordinator, overdue="true") == {late["id"]}
    assert await ids(s.coordinator, overdue="false") == {future["id"], undisclosed["id"]}
    assert await ids(s.coordinator, eta_after="2500-01-01T00:00:00") == {future["id"]}
    assert await ids(s.coordinator, eta_before="2500-01-01T00:00:00Z") == {late["id"]}
    assert await ids(s.coordinator, sender=s.sender.id) == everything
    assert await ids(s.coordinator, sender=s.destination.id) == set()
    assert await ids(s.coordinator, recipient=s.transit.id) == everything
    assert await ids(s.coordinator, recipient=s.bystander.id) == set()
    page = await client.get(s.url, headers=s.coordinator.headers, params={"limit": 2})
    assert len(page.json()["items"]) == 2 and page.json()["next_cursor"]
    rest = await client.get(
        s.url,
        headers=s.coordinator.headers,
        params={"limit": 2, "cursor": page.json()["next_cursor"]},
    )
    seen = {i["id"] for i in page.json()["items"] + rest.json()["items"]}
    assert seen == everything
    listed = {
        i["id"]: i for i in (await client.get(s.url, headers=s.sender.headers)).json()["items"]
    }
    assert listed[late["id"]]["overdue"] is True and listed[future["id"]]["overdue"] is False
