"""Helpers shared by the messaging tests: real envelopes, sealed by the posting device."""

import base64
import time
import uuid
from typing import Any

import httpx
from cordon_client import wire
from cordon_client.crypto import (
    ContentType,
    Recipient,
    SenderChain,
    seal_broadcast,
    seal_targeted,
)
from cordon_client.wire import NO_LABELS, Labels, MessageRef
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.factories import Actor

CONTENT_TYPES = {
    "alert": ContentType.ALERT,
    "chat": ContentType.MESSAGE,
    "sender_key": ContentType.SENDER_KEY,
    "library": ContentType.DOCUMENT_KEY,
    "history_transfer": ContentType.HISTORY_TRANSFER,
    "prenotification": ContentType.PRENOTIFICATION,
}


def message_id(name: str | None = None) -> str:
    """A client message id: the UUID of the envelope; named ids map to a stable UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name) if name else uuid.uuid4())


def sealed(
    who: Actor,
    group_id: str,
    text: str = "hello",
    *,
    kind: str = "alert",
    client_msg_id: str | None = None,
    recipients: list[str] | None = None,
    labels: Labels = NO_LABELS,
) -> bytes:
    """An envelope as the actor's device would seal it (wrapped to throw-away prekeys: the
    server cannot tell, and these tests only exercise routing)."""
    assert who.signing_key is not None
    common: dict[str, Any] = {
        "signing_key": who.signing_key,
        "sender_device_id": uuid.UUID(who.device_id),
        "group_id": uuid.UUID(group_id),
        "epoch_id": bytes(32),
        "content_type": CONTENT_TYPES[kind],
        "content": text.encode(),
        "ts": int(time.time() * 1000),
        "message_id": uuid.UUID(client_msg_id or message_id()),
        "labels": labels,
    }
    if recipients:
        targets = [
            Recipient(uuid.UUID(r), 1, X25519PrivateKey.generate().public_key()) for r in recipients
        ]
        return seal_targeted(recipients=targets, **common)
    chain = SenderChain.new(uuid.UUID(who.device_id), common["ts"], 0)
    return seal_broadcast(chain=chain, **common)


def envelope(who: Actor, group_id: str, text: str = "hello", **kw: Any) -> str:
    """A sealed envelope in the base64 form the API takes."""
    return base64.b64encode(sealed(who, group_id, text, **kw)).decode()


def ref_of(item: dict[str, Any]) -> MessageRef:
    """How a reply or receipt names a served item: (sender device, message id)."""
    return MessageRef(uuid.UUID(item["sender_device_id"]), uuid.UUID(item["client_msg_id"]))


def receipt(
    who: Actor, group_id: str, seq: int, status: str, item: MessageRef | None = None
) -> dict[str, Any]:
    """A receipt signed by `who`'s device for the item at `seq` (named by `item`)."""
    assert who.signing_key is not None
    ts = int(time.time() * 1000)
    signed = wire.receipt_signing_input(
        group_id=uuid.UUID(group_id),
        item=item or some_ref(),
        device_id=uuid.UUID(who.device_id),
        status=status,
        ts=ts,
    )
    sig = wire.b64e(who.signing_key.sign(signed))
    return {"group_id": group_id, "seq": seq, "status": status, "ts": ts, "sig": sig}


def some_ref() -> MessageRef:
    """A reply target that names no stored item."""
    return MessageRef(uuid.uuid4(), uuid.uuid4())


async def target_at(
    client: httpx.AsyncClient, who: Actor, group_id: str, seq: int | None
) -> MessageRef | None:
    """How a reply names the item at `seq`: its (sender device, message id), as a client
    learns it from the item it read (a made-up one if there is no such item)."""
    if seq is None:
        return None
    r = await client.get(f"/api/v1/groups/{group_id}/messages/{seq}", headers=who.headers)
    if r.status_code != 200 or not r.json()["sender_device_id"]:
        return some_ref()
    item = r.json()
    return MessageRef(uuid.UUID(item["sender_device_id"]), uuid.UUID(item["client_msg_id"]))


async def post(
    client: httpx.AsyncClient, who: Actor, group_id: str, text: str = "hello", **extra: Any
) -> httpx.Response:
    """Post a sealed message through the API (a fresh message id unless one is named); the
    envelope's signed labels agree with the `urgent` and `parent_seq` posted."""
    kind = extra.pop("kind", "alert")
    msg_id = message_id(extra.pop("client_msg_id", None))
    parent_seq = extra.get("parent_seq")
    labels = Labels(
        urgent=bool(extra.get("urgent")),
        reply_to=await target_at(client, who, group_id, parent_seq if parent_seq else None),
    )
    body: dict[str, Any] = {
        "kind": kind,
        "client_msg_id": msg_id,
        "envelope": envelope(
            who,
            group_id,
            text,
            kind=kind,
            client_msg_id=msg_id,
            recipients=extra.get("recipients"),
            labels=labels,
        ),
    }
    body.update(extra)
    return await client.post(f"/api/v1/groups/{group_id}/messages", headers=who.headers, json=body)


async def sync_all(
    client: httpx.AsyncClient, who: Actor, cursor: str | None = None, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Drain the sync endpoint from `cursor`; returns every item and the final cursor."""
    items: list[dict[str, Any]] = []
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/sync", headers=who.headers, params=query)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor
