"""A shipment scenario: a sender, a destination, a transit member, a bystander member, and
envelopes sealed with the real protocol library, addressed the way a client would."""

import base64
import json
import time
import uuid
from dataclasses import dataclass

import httpx
from cordon_client.crypto import ContentType, Recipient, seal_broadcast, seal_targeted
from cordon_client.crypto.ratchet import SenderChain
from cordon_client.records.workflow import sign_event
from cordon_client.wire import Labels, MessageRef
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f

EPOCH = b"\x01" * 32


@dataclass
class Shipment:
    """Who is who around one pre-notification."""

    group: f.GroupSetup
    sender: f.Actor
    destination: f.Actor
    transit: f.Actor
    bystander: f.Actor

    @property
    def group_id(self) -> str:
        return self.group.group_id

    @property
    def coordinator(self) -> f.Actor:
        return self.group.coordinator

    @property
    def url(self) -> str:
        return f"/api/v1/groups/{self.group_id}/prenotifications"

    def parties(self) -> list[f.Actor]:
        """Everyone who must receive it (the sender's own devices read it anyway)."""
        return [self.destination, self.transit, self.coordinator]


async def _add_member(
    client: httpx.AsyncClient, session: AsyncSession, g: f.GroupSetup, role: str = "member"
) -> f.Actor:
    a = await f.actor(client, session)
    r = await client.post(
        f"/api/v1/groups/{g.group_id}/members",
        headers=g.coordinator.headers,
        json={"user_id": a.id, "role": role},
    )
    assert r.status_code == 201, r.text
    return a


async def shipment(client: httpx.AsyncClient, session: AsyncSession) -> Shipment:
    """An active group with the parties of one shipment and a member it does not concern."""
    g = await f.group_with_roles(client, session)
    return Shipment(
        group=g,
        sender=g.member,
        destination=await _add_member(client, session, g),
        transit=await _add_member(client, session, g),
        bystander=await _add_member(client, session, g),
    )


def recipients_of(*actors: f.Actor) -> list[Recipient]:
    """One wrap per actor's device (the prekey is a throw-away: the server never opens it)."""
    return [
        Recipient(uuid.UUID(a.device_id), 1, X25519PrivateKey.generate().public_key())
        for a in actors
    ]


def seal(
    s: Shipment,
    actor: f.Actor,
    to: list[f.Actor],
    content: bytes = b'{"type":"pn"}',
    *,
    signing_key: Ed25519PrivateKey | None = None,
    group_id: str | None = None,
    labels: Labels | None = None,
) -> bytes:
    """A targeted PRENOTIFICATION envelope from `actor`'s device, signed with the shipment's
    roles (destination, transit) unless other labels are given."""
    key = signing_key or actor.signing_key
    assert key is not None
    roles = ((uuid.UUID(s.destination.id), 1), (uuid.UUID(s.transit.id), 2))
    return seal_targeted(
        labels=labels if labels is not None else Labels(roles=roles),
        signing_key=key,
        sender_device_id=uuid.UUID(actor.device_id),
        group_id=uuid.UUID(group_id or s.group_id),
        epoch_id=EPOCH,
        content_type=ContentType.PRENOTIFICATION,
        content=content,
        recipients=recipients_of(*to),
        ts=int(time.time() * 1000),
    )


def detail_labels(s: Shipment, pn: dict) -> Labels:
    """A detail names its pre-notification, (sender device, id), as its signed target."""
    return Labels(reply_to=MessageRef(uuid.UUID(s.sender.device_id), uuid.UUID(pn["id"])))


def broadcast(s: Shipment, actor: f.Actor) -> bytes:
    """A whole-group envelope, which a pre-notification must never be."""
    assert actor.signing_key is not None
    return seal_broadcast(
        signing_key=actor.signing_key,
        sender_device_id=uuid.UUID(actor.device_id),
        group_id=uuid.UUID(s.group_id),
        epoch_id=EPOCH,
        content_type=ContentType.PRENOTIFICATION,
        content=b"{}",
        chain=SenderChain.new(uuid.UUID(actor.device_id), int(time.time() * 1000), 0),
        ts=int(time.time() * 1000),
    )


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def create_body(s: Shipment, envelope: bytes | None = None, **overrides: object) -> dict:
    """A valid send request; `overrides` replace fields."""
    body: dict[str, object] = {
        "envelope": b64(envelope or seal(s, s.sender, s.parties())),
        "destination": [s.destination.id],
        "transit": [s.transit.id],
        "template_id": "vaccine-prenotification",
        "template_version": 1,
    }
    body.update(overrides)
    return body


async def send(client: httpx.AsyncClient, s: Shipment, **overrides: object) -> dict:
    """Send a valid pre-notification and return its detail."""
    r = await client.post(s.url, headers=s.sender.headers, json=create_body(s, **overrides))
    assert r.status_code == 201, r.text
    return r.json()


def event_body(
    s: Shipment,
    actor: f.Actor,
    pn: dict,
    to: str,
    *,
    detail: bytes | None = None,
    signing_key: Ed25519PrivateKey | None = None,
) -> dict:
    """A signed transition request from `actor` based on the state `pn` shows."""
    ts = int(time.time() * 1000)
    key = signing_key or actor.signing_key
    assert key is not None
    sig = sign_event(
        key,
        group_id=uuid.UUID(s.group_id),
        prenotification_id=uuid.UUID(pn["id"]),
        seq=pn["event_count"],
        from_status=pn["status"],
        to_status=to,
        ts=ts,
        detail=detail,
    )
    body: dict[str, object] = {
        "from_status": pn["status"],
        "to_status": to,
        "seq": pn["event_count"],
        "ts": ts,
        "signature": b64(sig),
    }
    if detail is not None:
        body["detail_envelope"] = b64(detail)
    return body


async def move(
    client: httpx.AsyncClient,
    s: Shipment,
    actor: f.Actor,
    pn: dict,
    to: str,
    *,
    detail: bytes | None = None,
) -> httpx.Response:
    """Ask the server to move `pn` to `to` as `actor`."""
    if detail is None and to in ("amended", "discrepancy"):
        detail = seal(
            s,
            actor,
            [a for a in [s.sender, *s.parties()] if a is not actor],
            labels=detail_labels(s, pn),
        )
    return await client.post(
        f"{s.url}/{pn['id']}/events",
        headers=actor.headers,
        json=event_body(s, actor, pn, to, detail=detail),
    )


async def sync_items(client: httpx.AsyncClient, actor: f.Actor, group_id: str) -> list[dict]:
    """Every stream item this actor's device can read in the group."""
    r = await client.get("/api/v1/sync", headers=actor.headers, params={"group_id": group_id})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def payload(item: dict) -> dict:
    """The server-written JSON body of a prenotification_event item."""
    return dict(json.loads(base64.b64decode(item["envelope"])))
