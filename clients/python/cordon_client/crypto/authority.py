"""Who held which role at a given log head: the checks behind document keys, manifests and
history grants (PROTOCOL.md §8, §9).

A key or manifest names the head its author had verified (`epoch_id`); the author's device must
have belonged to a coordinator there. Devices and members removed since are still found, because
the question is asked of the log as it stood at that head, not of today's roster.
"""

from __future__ import annotations

import hmac
import uuid
from collections import OrderedDict
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cordon_client.crypto._encoding import b64d, sha256
from cordon_client.crypto.envelope import (
    ContentType,
    Kind,
    RoutingHeader,
    decrypt_body,
    parse_envelope,
    verify_envelope,
)
from cordon_client.crypto.history import (
    BROADCAST_ITEM_KEY,
    TARGETED_ITEM_KEY,
    DocumentKey,
    GrantedItem,
    HistoryGrant,
)
from cordon_client.crypto.log import LogEntry
from cordon_client.crypto.roster import Device, Roster
from cordon_client.crypto.stream import Manifest, check_key_commitment, verify_manifest
from cordon_client.exceptions import (
    CategoryMismatchError,
    CryptoError,
    DocumentKeyConflictError,
    EpochMismatchError,
    HistoryGrantError,
    UnauthorisedKeyingError,
)

COORDINATOR = "coordinator"
SCOPE_CONTENT = {
    "cases": (Kind.BROADCAST, frozenset({ContentType.ALERT, ContentType.MESSAGE})),
    "prenotifications": (Kind.TARGETED, frozenset({ContentType.PRENOTIFICATION})),
}
_CACHE_SIZE = 16
_OPEN = 1 << 62


@dataclass(slots=True)
class _Timeline:
    """When each device was certified and which role each member held, per seq, from one
    pass over an already verified log (no signature is checked again)."""

    devices: dict[uuid.UUID, list[list[Any]]] = field(default_factory=dict)
    roles: dict[uuid.UUID, list[tuple[int, str | None]]] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Sequence[LogEntry]) -> _Timeline:
        t = cls()
        live: dict[uuid.UUID, list[uuid.UUID]] = {}
        for e in entries:
            if e.op not in (
                "add_member",
                "set_role",
                "remove_member",
                "add_device",
                "revoke_device",
            ):
                continue
            member = uuid.UUID(e.body["member_id"])
            if e.op in ("add_member", "set_role"):
                t.roles.setdefault(member, []).append((e.seq, e.body["role"]))
            elif e.op == "remove_member":
                t.roles.setdefault(member, []).append((e.seq, None))
                for device in live.pop(member, []):
                    t.devices[device][-1][1] = e.seq
            elif e.op == "add_device":
                device = uuid.UUID(e.body["device_id"])
                key = b64d(e.body["device_key"], length=32)
                t.devices.setdefault(device, []).append([e.seq, _OPEN, member, key])
                live.setdefault(member, []).append(device)
            else:
                device = uuid.UUID(e.body["device_id"])
                t.devices[device][-1][1] = e.seq
                live[member].remove(device)
        return t

    def device_at(self, device_id: uuid.UUID, seq: int) -> tuple[Device, str] | None:
        for start, end, member, key in self.devices.get(device_id, ()):
            if start <= seq < end:
                role = None
                for at, value in self.roles.get(member, ()):
                    if at <= seq:
                        role = value
                return (Device(device_id, member, key), role) if role else None
        return None


_timelines: OrderedDict[tuple[uuid.UUID, bytes], _Timeline] = OrderedDict()


def _timeline(roster: Roster) -> _Timeline:
    slot = (roster.group_id, roster.epoch_id)
    found = _timelines.get(slot)
    if found is None:
        found = _timelines[slot] = _Timeline.of(roster.entries)
        if len(_timelines) > _CACHE_SIZE:
            _timelines.popitem(last=False)
    return found


def device_at(roster: Roster, device_id: uuid.UUID, epoch_id: bytes) -> tuple[Device, str] | None:
    """The device and its member's role at the head `epoch_id`, or None if it was not certified
    there; an unknown head is an EpochMismatchError (refresh the log and retry)."""
    seq = roster.epoch_seq(epoch_id)
    if seq is None:
        raise EpochMismatchError("names a log head this device has not verified", epoch_id)
    return _timeline(roster).device_at(device_id, seq)


def coordinator_device_at(
    roster: Roster, device_id: uuid.UUID, epoch_id: bytes, *, what: str
) -> Device:
    """The device, if it belonged to a coordinator at `epoch_id`; else UnauthorisedKeyingError
    naming `what` and the device."""
    found = device_at(roster, device_id, epoch_id)
    if found is None:
        raise UnauthorisedKeyingError(
            f"{what}: device {device_id} was not certified in the log at the head it names"
        )
    device, role = found
    if role != COORDINATOR:
        raise UnauthorisedKeyingError(
            f"{what}: device {device_id} belonged to a {role}, not a coordinator, at that head"
        )
    return device


def check_manifest(
    roster: Roster,
    manifest: Manifest,
    *,
    key: DocumentKey,
    category: str | None = None,
) -> Device:
    """Everything a reader checks before decrypting a document version: the uploader was a
    coordinator's device at the head the manifest names, it signed the manifest, the key is
    the one the manifest commits to and was issued for this manifest, and the server's routing
    category is the signed one. Returns the uploading device."""
    what = f"manifest of document {manifest.document_id} version {manifest.version}"
    if manifest.group_id != roster.group_id:
        raise UnauthorisedKeyingError(f"{what}: sealed for group {manifest.group_id}")
    device = coordinator_device_at(
        roster, manifest.uploader_device_id, manifest.epoch_id, what=what
    )
    verify_manifest(manifest, device.signing_key)
    if (key.document_id, key.version) != (manifest.document_id, manifest.version):
        raise DocumentKeyConflictError(
            f"{what}: the key held is for document {key.document_id} version {key.version}"
        )
    if not hmac.compare_digest(key.manifest_hash, manifest.manifest_hash()):
        raise DocumentKeyConflictError(f"{what}: the key held was issued for another manifest")
    check_key_commitment(manifest, key.key)
    if category is not None and category != manifest.category:
        raise CategoryMismatchError(
            f"{what}: the server lists category {category!r}, the manifest signs "
            f"{manifest.category!r}"
        )
    return device


def check_new_keys(
    held: MutableMapping[tuple[uuid.UUID, int], DocumentKey], keys: list[DocumentKey]
) -> None:
    """A key for a (document, version) is fixed once held: a different one is refused (the
    whole batch, before anything is installed); the same one again is accepted."""
    seen: dict[tuple[uuid.UUID, int], DocumentKey] = {}
    for key in keys:
        slot = (key.document_id, key.version)
        earlier = held.get(slot) or seen.get(slot)
        if earlier is not None and (
            not hmac.compare_digest(earlier.key, key.key)
            or earlier.manifest_hash != key.manifest_hash
        ):
            raise DocumentKeyConflictError(
                f"document {key.document_id} version {key.version} already has a different "
                "key on this device; the new one is refused"
            )
        seen[slot] = key


def check_grant_sender(roster: Roster, sender: Device, member_id: uuid.UUID) -> None:
    """Step 2 for a HISTORY_GRANT envelope: from a coordinator's device of the current roster
    to a member who holds at least one logged `cases`/`prenotifications` grant."""
    role = roster.members[sender.member_id].role
    if role != COORDINATOR:
        raise HistoryGrantError(
            f"history grant from device {sender.device_id} of a {role}, not a coordinator"
        )
    scopes = roster.members[member_id].history_scopes & set(SCOPE_CONTENT)
    if not scopes:
        raise HistoryGrantError("history grant, but the log holds no history grant for you")


def check_grant(roster: Roster, grant: HistoryGrant, member_id: uuid.UUID) -> None:
    """The grant's content: for this member, and for a scope the log grants them."""
    if grant.member_id != member_id:
        raise HistoryGrantError(f"history grant is for member {grant.member_id}, not you")
    if grant.scope not in roster.members[member_id].history_scopes:
        raise HistoryGrantError(
            f"history grant for scope {grant.scope!r}, which the log does not grant you"
        )


def check_granted_event(scope: str, item: GrantedItem, served: bytes) -> None:
    """A granted status event (empty key) is the server's signed-event JSON the coordinator
    saw, byte for byte; its signature is checked like any status event's afterwards."""
    what = f"granted item seq {item.seq}"
    if scope != "prenotifications":
        raise HistoryGrantError(f"{what}: a status event is not in scope {scope}")
    if sha256(served) != item.envelope_hash:
        raise HistoryGrantError(f"{what}: the served status event is not the one granted")


def open_granted_item(
    roster: Roster, scope: str, item: GrantedItem, envelope: bytes
) -> tuple[RoutingHeader, Device, bytes]:
    """Verify an earlier item fetched from the server against its grant and the ORIGINAL
    sender's device key at the head it names, then decrypt it with the granted key.

    Raises HistoryGrantError naming the item's seq and what did not match."""
    what = f"granted item seq {item.seq}"
    if sha256(envelope) != item.envelope_hash:
        raise HistoryGrantError(f"{what}: the served envelope is not the one granted")
    try:
        env = parse_envelope(envelope)
    except CryptoError as exc:
        raise HistoryGrantError(f"{what}: {exc.reason}") from None
    h = env.header
    if h.group_id != roster.group_id:
        raise HistoryGrantError(f"{what}: the envelope is for another group")
    if (h.sender_device_id, h.message_id) != (item.sender_device_id, item.message_id):
        raise HistoryGrantError(f"{what}: sender device or message id differs from the grant")
    kind, types = SCOPE_CONTENT[scope]
    if h.kind != kind or h.content_type not in types:
        raise HistoryGrantError(f"{what}: content type {h.content_type} is not in scope {scope}")
    try:
        found = device_at(roster, h.sender_device_id, h.epoch_id)
    except EpochMismatchError:
        raise HistoryGrantError(f"{what}: names a log head this device has not verified") from None
    if found is None:
        raise HistoryGrantError(
            f"{what}: sender device {h.sender_device_id} was not in the log at that head"
        )
    sender = found[0]
    try:
        verify_envelope(env, sender.signing_key)
        if kind == Kind.BROADCAST:
            if len(item.item_key) != BROADCAST_ITEM_KEY:
                raise HistoryGrantError(f"{what}: a broadcast needs a 44-byte key and nonce")
            content = decrypt_body(env, item.item_key[:32], item.item_key[32:])
        else:
            if len(item.item_key) != TARGETED_ITEM_KEY:
                raise HistoryGrantError(f"{what}: a targeted envelope needs a 32-byte key")
            content = decrypt_body(env, item.item_key)
    except HistoryGrantError:
        raise
    except CryptoError as exc:
        raise HistoryGrantError(f"{what}: {exc.reason}") from None
    return h, sender, content
