"""The status flow through the API: every transition allowed and refused, signed and pushed."""

import base64
import uuid

import httpx
from cordon_client.records import workflow as client_workflow
from cordon_client.records.workflow import verify_event
from sqlalchemy.ext.asyncio import AsyncSession

from app.prenotifications import workflow
from tests import factories as f
from tests.prenotifications import helpers as h

STATUSES = [
    "sent",
    "acknowledged",
    "arrived",
    "cleared",
    "closed",
    "amended",
    "cancelled",
    "discrepancy",
]
# Written by hand from docs/workflows.md: (from, to) -> capacities allowed to make the move.
EXPECTED = {
    ("sent", "acknowledged"): {"destination"},
    ("amended", "acknowledged"): {"destination"},
    ("acknowledged", "arrived"): {"destination"},
    ("arrived", "cleared"): {"destination"},
    ("discrepancy", "cleared"): {"destination"},
    ("acknowledged", "discrepancy"): {"destination"},
    ("arrived", "discrepancy"): {"destination"},
    ("sent", "amended"): {"sender"},
    ("acknowledged", "amended"): {"sender"},
    ("amended", "amended"): {"sender"},
    ("sent", "cancelled"): {"sender"},
    ("acknowledged", "cancelled"): {"sender"},
    ("amended", "cancelled"): {"sender"},
    ("cleared", "closed"): {"sender", "coordinator"},
    ("discrepancy", "closed"): {"sender", "coordinator"},
}
PATHS = {
    "sent": [],
    "acknowledged": [("destination", "acknowledged")],
    "arrived": [("destination", "acknowledged"), ("destination", "arrived")],
    "cleared": [
        ("destination", "acknowledged"),
        ("destination", "arrived"),
        ("destination", "cleared"),
    ],
    "closed": [
        ("destination", "acknowledged"),
        ("destination", "arrived"),
        ("destination", "cleared"),
        ("sender", "closed"),
    ],
    "amended": [("sender", "amended")],
    "cancelled": [("sender", "cancelled")],
    "discrepancy": [("destination", "acknowledged"), ("destination", "discrepancy")],
}


def _who(s: h.Shipment) -> dict[str, f.Actor]:
    return {
        "sender": s.sender,
        "destination": s.destination,
        "transit": s.transit,
        "coordinator": s.coordinator,
    }


async def _at(client: httpx.AsyncClient, s: h.Shipment, status: str) -> dict:
    """A fresh pre-notification walked to `status` along its ordinary path."""
    pn = await h.send(client, s)
    for capacity, to in PATHS[status]:
        r = await h.move(client, s, _who(s)[capacity], pn, to)
        assert r.status_code == 201, (status, to, r.text)
        pn = r.json()
    assert pn["status"] == status
    return pn


def test_the_tables_agree():
    """Server, client mirror and the hand-written table are the same state machine."""
    server = {
        (a.value, b.value): {c.value for c in who} for (a, b), who in workflow.TRANSITIONS.items()
    }
    client = {k: set(v) for k, v in client_workflow.TRANSITIONS.items()}
    assert server == EXPECTED == client


async def test_every_transition_allowed_and_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """From each status, each move by each party: 201 when the table allows it, 403 when the
    party may not, 409 when the move is out of order; a bystander only ever sees 404."""
    s = await h.shipment(client, session)
    for start in STATUSES:
        pn = await _at(client, s, start)
        for target in STATUSES:
            for capacity, actor in _who(s).items():
                allowed = EXPECTED.get((start, target))
                where = (start, target, capacity)
                if allowed is not None and capacity in allowed:
                    fresh = await _at(client, s, start)
                    r = await h.move(client, s, actor, fresh, target)
                    assert r.status_code == 201, (where, r.text)
                    assert r.json()["status"] == target
                    assert r.json()["events"][-1]["actor_user_id"] == actor.id
                    continue
                r = await h.move(client, s, actor, pn, target)
                if allowed is None:
                    f.assert_problem(r, 409, "prenotification.invalid_transition")
                else:
                    f.assert_problem(r, 403, "prenotification.transition_not_allowed")
            r = await h.move(client, s, s.bystander, pn, target)
            f.assert_problem(r, 404, "prenotification.not_found")
        after = await client.get(f"{s.url}/{pn['id']}", headers=s.sender.headers)
        assert after.json()["status"] == start and after.json()["event_count"] == pn["event_count"]


async def test_stale_status_or_position_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A move signed against an older state loses to the one that came first."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    r = await h.move(client, s, s.destination, pn, "acknowledged")
    assert r.status_code == 201
    r = await h.move(client, s, s.sender, pn, "cancelled")
    problem = f.assert_problem(r, 409, "prenotification.status_changed")
    assert problem["current_status"] == "acknowledged" and problem["event_count"] == 2


async def test_signature_must_be_the_acting_device(
    client: httpx.AsyncClient, session: AsyncSession
):
    """A status event signed by another key, or over other fields, is refused."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    forged = h.event_body(s, s.destination, pn, "acknowledged", signing_key=f.new_device()[1])
    r = await client.post(f"{s.url}/{pn['id']}/events", headers=s.destination.headers, json=forged)
    f.assert_problem(r, 422, "prenotification.invalid_signature")
    tampered = h.event_body(s, s.destination, pn, "acknowledged") | {"ts": 1}
    r = await client.post(
        f"{s.url}/{pn['id']}/events", headers=s.destination.headers, json=tampered
    )
    f.assert_problem(r, 422, "prenotification.invalid_signature")
    after = await client.get(f"{s.url}/{pn['id']}", headers=s.sender.headers)
    assert after.json()["status"] == "sent"


async def test_amendment_and_discrepancy_need_details(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Amending without the new version is refused; with it, the detail joins the thread."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    body = h.event_body(s, s.sender, pn, "amended")
    r = await client.post(f"{s.url}/{pn['id']}/events", headers=s.sender.headers, json=body)
    f.assert_problem(r, 422, "prenotification.detail_required")
    r = await h.move(client, s, s.sender, pn, "amended")
    assert r.status_code == 201, r.text
    event = r.json()["events"][-1]
    items = await h.sync_items(client, s.destination, s.group_id)
    detail = next(i for i in items if i["seq"] == event["detail_seq"])
    assert detail["kind"] == "prenotification" and detail["parent_seq"] == pn["stream_seq"]


async def test_detail_wrapped_to_a_bystander_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Details follow the same routing rule as the pre-notification itself."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    leak = h.seal(s, s.sender, [*s.parties(), s.bystander])
    r = await h.move(client, s, s.sender, pn, "amended", detail=leak)
    f.assert_problem(r, 422, "prenotification.invalid_recipients")
    items = await h.sync_items(client, s.bystander, s.group_id)
    assert not [i for i in items if i["kind"].startswith("prenotification")]


async def test_each_transition_is_a_signed_event_pushed_to_every_party(
    client: httpx.AsyncClient, session: AsyncSession
):
    """Sender, destination, transit and coordinator all get the event item, whose signature
    verifies under the acting device's key; the bystander gets nothing."""
    s = await h.shipment(client, session)
    pn = await h.send(client, s)
    r = await h.move(client, s, s.destination, pn, "acknowledged")
    event = r.json()["events"][-1]
    for party in [s.sender, *s.parties()]:
        items = await h.sync_items(client, party, s.group_id)
        pushed = [i for i in items if i["kind"] == "prenotification_event"]
        assert [i["seq"] for i in pushed] == [event["stream_seq"]], party
        body = h.payload(pushed[0])
        assert body["prenotification_id"] == pn["id"] and body["to"] == "acknowledged"
        assert pushed[0]["parent_seq"] == pn["stream_seq"]
        key = s.destination.signing_key
        assert key is not None
        verify_event(
            key.public_key().public_bytes_raw(),
            bytes.fromhex(body["sig"]),
            group_id=uuid.UUID(s.group_id),
            prenotification_id=uuid.UUID(pn["id"]),
            seq=body["seq"],
            from_status=body["from"],
            to_status=body["to"],
            ts=body["ts"],
        )
    assert not [
        i
        for i in await h.sync_items(client, s.bystander, s.group_id)
        if i["kind"].startswith("prenotification")
    ]
    sig = base64.urlsafe_b64decode(event["signature"] + "==")
    assert sig.hex() == h.payload(pushed[0])["sig"]
    assert r.json()["acknowledged_at"] is not None
