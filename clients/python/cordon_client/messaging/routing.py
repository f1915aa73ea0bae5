"""The routing copy of an item, checked against what its sender signed (PROTOCOL.md §7 step 2).

The server hands each item with `kind`, `urgent` and `parent_seq`; the envelope carries the
same facts as signed labels, a reply or review naming its target as `(sender_device_id,
message_id)`. A seq is the server's locator: to check a `parent_seq`, the client looks up which
item sits there (one it opened before, or fetched and checked against the roster) and compares
it with the signed target. Sending uses the same lookup to name a parent.
"""

from __future__ import annotations

import base64
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client import wire
from cordon_client.account.client import now_ms
from cordon_client.crypto import GroupSession, parse_envelope, parse_routing_header
from cordon_client.crypto.envelope import verify_envelope
from cordon_client.exceptions import (
    ApiError,
    CordonClientError,
    CryptoError,
    RoutingMismatchError,
    SignatureError,
    UntrustedSenderError,
)
from cordon_client.groups.client import GroupsClient
from cordon_client.wire import Header, Labels, MessageRef

REF_CACHE_SIZE = 50_000

Fetch = Callable[[uuid.UUID, int], Awaitable[dict[str, Any] | None]]


class Refs:
    """Which item (as its sender named it) sits at which seq, for items this device checked."""

    def __init__(self) -> None:
        self._refs: OrderedDict[tuple[uuid.UUID, int], MessageRef] = OrderedDict()

    def remember(self, group_id: uuid.UUID, seq: int, ref: MessageRef) -> None:
        """Record a verified item's position (bounded; the oldest are forgotten)."""
        self._refs[(group_id, seq)] = ref
        if len(self._refs) > REF_CACHE_SIZE:
            self._refs.popitem(last=False)

    def get(self, group_id: uuid.UUID, seq: int) -> MessageRef | None:
        """The remembered item at this seq, if any."""
        return self._refs.get((group_id, seq))


def item_ref(item: dict[str, Any], session: GroupSession) -> MessageRef:
    """The signed identity of a served item: its envelope parsed and its signature checked
    under the sender device's key in the verified roster."""
    env = parse_envelope(base64.b64decode(item["envelope"]))
    device = session.roster.device(env.header.sender_device_id)
    if device is None:
        raise UntrustedSenderError(
            f"parent_seq {item['seq']}: its sender device is not in the verified roster"
        )
    verify_envelope(env, device.signing_key)
    return env.header.ref


async def ref_at(
    refs: Refs, fetch: Fetch, session: GroupSession, group_id: uuid.UUID, seq: int
) -> MessageRef | None:
    """The item at `seq`, from memory or fetched and verified; None if this device cannot
    read it (then the seq cannot be checked and is not shown)."""
    known = refs.get(group_id, seq)
    if known is not None:
        return known
    item = await fetch(group_id, seq)
    if item is None:
        return None
    raw = base64.b64decode(item["envelope"])
    if not raw.startswith(wire.MAGIC) or item.get("sender_device_id") is None:
        raise RoutingMismatchError(f"parent_seq {seq}: names a server-written item")
    ref = item_ref(item, session)
    refs.remember(group_id, seq, ref)
    return ref


def check_identity(header: Header, meta: dict[str, Any], client_msg_id: object) -> None:
    """The item's `client_msg_id` and `sender_device_id` are the envelope's: an envelope the
    server moved to another item's slot (a swap, a replay under a new id) is refused."""
    if client_msg_id != str(header.message_id):
        raise RoutingMismatchError(
            f"routing copy of seq {meta['seq']}: client_msg_id is not the envelope's message id"
        )
    if meta["sender_device_id"] != header.sender_device_id:
        raise RoutingMismatchError(
            f"routing copy of seq {meta['seq']}: sender_device_id is not the envelope's sender"
        )


def check_routing(header: Header, meta: dict[str, Any], parent: MessageRef | None) -> None:
    """Refuse an item whose routing copy disagrees with its signed labels.

    `parent` is the item found at the copy's `parent_seq` (the signed target itself when that
    item is not readable here, so only its presence is compared)."""
    problem = wire.routing_mismatch(
        header,
        kind=str(meta["kind"]),
        urgent=bool(meta["urgent"]),
        parent=parent,
        has_parent=meta["parent_seq"] is not None,
    )
    if problem is not None:
        raise RoutingMismatchError(f"routing copy of seq {meta['seq']}: {problem}")


def sending_labels(*, urgent: bool, parent: MessageRef | None, review: bool) -> Labels:
    """The labels a sender signs for `send(urgent=…, parent_seq=…, review=…)`."""
    if review and parent is None:
        raise ValueError("a review needs the parent_seq of the case it reviews")
    return Labels(
        urgent=urgent,
        reply_to=None if review else parent,
        review_of=parent if review else None,
    )


async def fetch_item(call: Callable[..., Awaitable[Any]], group_id: uuid.UUID, seq: int) -> Any:
    """One stream item as this device may read it, or None (404)."""
    try:
        return await call("GET", f"/api/v1/groups/{group_id}/messages/{seq}")
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def receipt_body(
    signing_key: Ed25519PrivateKey,
    *,
    group_id: uuid.UUID,
    seq: int,
    item: MessageRef,
    device_id: uuid.UUID,
    status: str,
    ts: int,
) -> dict[str, Any]:
    """A receipt as posted (HTTP or websocket frame), signed by the receipting device."""
    signed = wire.receipt_signing_input(
        group_id=group_id, item=item, device_id=device_id, status=status, ts=ts
    )
    return {
        "group_id": str(group_id),
        "seq": seq,
        "status": status,
        "ts": ts,
        "sig": wire.b64e(signing_key.sign(signed)),
    }


def check_receipt(
    event: dict[str, Any], *, group_id: uuid.UUID, session: GroupSession, mine: MessageRef | None
) -> None:
    """A receipt item pushed to the sender: signed by a roster device, for this device's own
    item at that seq (`mine`, as this device sent it); RoutingMismatchError otherwise."""
    try:
        device_id = uuid.UUID(str(event["device_id"]))
        item = event["item"]
        ref = MessageRef(
            uuid.UUID(str(item["sender_device_id"])), uuid.UUID(str(item["message_id"]))
        )
        status, ts = str(event["status"]), event["ts"]
        sig = wire.b64d(event["sig"], length=64, what="receipt.sig")
        if not isinstance(ts, int) or isinstance(ts, bool):
            raise ValueError("ts")
        signed = wire.receipt_signing_input(
            group_id=group_id, item=ref, device_id=device_id, status=status, ts=ts
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RoutingMismatchError(
            f"receipt for seq {event.get('seq')}: malformed ({exc})"
        ) from None
    device = session.roster.device(device_id)
    if device is None:
        raise UntrustedSenderError(f"receipt from device {device_id}, not in the verified roster")
    if not wire.verify_ed25519(device.signing_key, sig, signed):
        raise SignatureError(f"receipt for seq {event.get('seq')}: signature does not verify")
    if mine is None or ref != mine:
        raise RoutingMismatchError(
            f"receipt for seq {event.get('seq')}: signed for another item than the one there"
        )


class RoutingClient(GroupsClient):
    """The client side of §7 step 2 and §7.2: parents named and checked, receipts signed
    and checked."""

    _refs_cache: Refs | None = None

    @property
    def _refs(self) -> Refs:
        if self._refs_cache is None:
            self._refs_cache = Refs()
        return self._refs_cache

    async def _fetch_item(self, group_id: uuid.UUID, seq: int) -> dict[str, Any] | None:
        item: dict[str, Any] | None = await fetch_item(self._call, group_id, seq)
        return item

    async def _parent_ref(
        self, group_id: uuid.UUID, session: GroupSession, parent_seq: int | None
    ) -> MessageRef | None:
        """How a reply or review names the item at `parent_seq` (checked, never the server's
        word alone)."""
        if parent_seq is None:
            return None
        ref = await ref_at(self._refs, self._fetch_item, session, group_id, parent_seq)
        if ref is None:
            raise CordonClientError(f"parent_seq {parent_seq}: no item this device can read")
        return ref

    async def _receipt(self, group_id: uuid.UUID, seq: int, status: str) -> dict[str, Any]:
        """A receipt signed by this device for the item at `seq`, named as its sender did."""
        session = await self._session(group_id)
        ref = await ref_at(self._refs, self._fetch_item, session, group_id, seq)
        if ref is None:
            raise CordonClientError(f"seq {seq}: no item this device can read")
        _, keystore = self.state.require()
        return receipt_body(
            keystore.signing_key,
            group_id=group_id,
            seq=seq,
            item=ref,
            device_id=keystore.device_id,
            status=status,
            ts=now_ms(),
        )

    async def _check_routing(
        self,
        group_id: uuid.UUID,
        session: GroupSession,
        envelope: bytes,
        meta: dict[str, Any],
        item_msg_id: object,
    ) -> int | None:
        """Refuse a routing copy that disagrees with the signed labels (before any state
        changes); returns the `parent_seq` to show (None if this device cannot read it)."""
        header = parse_routing_header(envelope)
        check_identity(header, meta, item_msg_id)
        target, parent_seq = header.labels.target, meta["parent_seq"]
        parent = None
        if target is not None and parent_seq is not None:
            parent = await ref_at(self._refs, self._fetch_item, session, group_id, parent_seq)
            if parent is None:  # not readable here: compare presence only, show no parent
                check_routing(header, meta, target)
                return None
        check_routing(header, meta, parent)
        return parent_seq if isinstance(parent_seq, int) else None

    async def _receipt_problem(self, group_id: uuid.UUID, event: dict[str, Any]) -> str | None:
        """Why a pushed receipt is not this device's own item's, signed by a roster device;
        None when it is."""
        seq = event.get("seq")
        try:
            session = await self._session(group_id)
            mine = None
            if isinstance(seq, int):
                mine = await ref_at(self._refs, self._fetch_item, session, group_id, seq)
            if mine is not None and mine.sender_device_id != session.device_id:
                mine = None
            check_receipt(event, group_id=group_id, session=session, mine=mine)
        except CryptoError as exc:
            return exc.reason
        return None
