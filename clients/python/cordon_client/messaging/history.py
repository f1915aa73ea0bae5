"""History for late joiners (PROTOCOL.md §9): a coordinator grants a member the operation's
earlier cases or pre-notifications; the member fetches the ORIGINAL envelopes and opens them.

Three steps, each checked against the signed log:

1. A coordinator's device keeps, for every case or pre-notification it opens, the key that
   opened it (`observe`, in the keystore beside the decrypted archive it already keeps).
2. `grant` appends `grant_history(member, scope)` to the log, then sends a HISTORY_GRANT to the
   member's devices: per item its seq, sender device, message id, envelope hash and key.
3. The member's device keeps the verified grant (`keep_grant`) and `import_granted` fetches
   the original envelopes from `/groups/{id}/history/{scope}`, verifies each against the
   original sender's device key in the log at the head it names, and decrypts it; the
   domain layer archives the result, so `cordon cases list` shows earlier cases.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cordon_client.account.client import now_ms
from cordon_client.crypto.authority import (
    COORDINATOR,
    check_granted_event,
    open_granted_item,
)
from cordon_client.crypto.envelope import Recipient, parse_routing_header
from cordon_client.crypto.history import GRANT_SCOPES, GrantedItem, HistoryBundle, HistoryGrant
from cordon_client.crypto.ratchet import chain_step, message_key
from cordon_client.crypto.session import GroupSession, Received
from cordon_client.exceptions import (
    ApiError,
    CordonClientError,
    CryptoError,
    HistoryGrantError,
    KeyUnavailableError,
)
from cordon_client.messaging.incoming import Incoming, item_meta

if TYPE_CHECKING:
    from cordon_client.account.state import LocalState as ClientState
    from cordon_client.messaging.client import MessagingClient

ARCHIVE = "domain-archive:{}"  # the records layer's archive (cordon_client.records.store)
STATUS_EVENT = "status_event"  # cordon_client.records.view.STATUS_EVENT
ITEM_KEY = "history-key:{}:{}"  # group id, seq: one keystore secret per kept key
PENDING = "history-grants:{}"
FETCH_BATCH = 500  # seqs per history request, as the server allows
GRANT_CHUNK = 1_000
"""Items per HISTORY_GRANT envelope: §9.1 allows 10,000 per grant content, but an envelope is
at most 256 KiB on the server (CORDON_ENVELOPE_MAX_BYTES) and one item takes up to 140 bytes,
so 1,000 (about 140 KB, padded to 192 KiB) per envelope, as the browser sends them."""
SCOPE_KINDS = {"cases": ("alert", "chat"), "prenotifications": ("prenotification",)}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _load(state: ClientState, name: str) -> dict[str, Any]:
    raw = state.secret(name) if state.keystore else None
    loaded: dict[str, Any] = json.loads(raw) if raw else {}
    return loaded


def scope_of(kind: str, parent_seq: int | None) -> str | None:
    """The history scope an item belongs to: cases and their threads, or pre-notifications."""
    if kind == "alert" or (kind == "chat" and parent_seq is not None):
        return "cases"
    if kind == "prenotification":
        return "prenotifications"
    return None


def _is_coordinator(session: GroupSession) -> bool:
    me = session.roster.members.get(session.member_id)
    return me is not None and me.role == COORDINATOR


def _keep(
    state: ClientState, group_id: uuid.UUID, seq: int, scope: str, envelope: bytes, key: bytes
) -> None:
    header = parse_routing_header(envelope)
    record = {
        "scope": scope,
        "sender_device_id": str(header.sender_device_id),
        "message_id": str(header.message_id),
        "envelope_hash": _b64(hashlib.sha256(envelope).digest()),
        "key": _b64(key),
    }
    state.set_secret(ITEM_KEY.format(group_id, seq), json.dumps(record).encode())


def observe(
    state: ClientState,
    session: GroupSession,
    meta: dict[str, Any],
    envelope: bytes,
    received: Received,
) -> None:
    """On a coordinator's device, remember the key of a case or pre-notification it opened,
    so it can later grant it; other devices keep nothing (no key outlives its use)."""
    scope = scope_of(meta["kind"], meta["parent_seq"])
    if scope is None or not received.item_key or not _is_coordinator(session):
        return
    _keep(state, meta["group_id"], meta["seq"], scope, envelope, received.item_key)


def next_broadcast_key(session: GroupSession) -> bytes:
    """On a coordinator's device, the key ‖ nonce its next broadcast will use (its own cases
    and reviews are granted too); empty elsewhere. Call right before `encrypt_broadcast`."""
    chain = session.sender_chain
    if chain is None or not _is_coordinator(session):
        return b""
    mk, _ = chain_step(chain.chain_key)
    key, nonce = message_key(mk, chain.chain_id, chain.index)
    return key + nonce


def observe_sent(
    state: ClientState,
    group_id: uuid.UUID,
    seq: int,
    kind: str,
    parent_seq: int | None,
    envelope: bytes,
    item_key: bytes,
) -> None:
    """Keep the key of a broadcast this coordinator's device just posted, if in a scope."""
    scope = scope_of(kind, parent_seq)
    if scope is not None and item_key:
        _keep(state, group_id, seq, scope, envelope, item_key)


def granted_items(state: ClientState, group_id: uuid.UUID, scope: str) -> list[GrantedItem]:
    """Every item of `scope` whose key this device holds, by seq."""
    prefix = ITEM_KEY.format(group_id, "")
    _, keystore = state.require()
    out = []
    for name, raw in keystore.secrets.items():
        if not name.startswith(prefix):
            continue
        k = json.loads(raw)
        if k["scope"] == scope:
            out.append(
                GrantedItem(
                    int(name[len(prefix) :]),
                    uuid.UUID(k["sender_device_id"]),
                    uuid.UUID(k["message_id"]),
                    base64.b64decode(k["envelope_hash"]),
                    base64.b64decode(k["key"]),
                )
            )
    return sorted(out, key=lambda i: i.seq)


def keep_grant(state: ClientState, group_id: uuid.UUID, received: Received) -> None:
    """Keep a verified HISTORY_GRANT until its items are imported (a crash loses nothing)."""
    name = PENDING.format(group_id)
    pending = _load(state, name)
    pending[str(received.header.message_id)] = _b64(received.content)
    state.set_secret(name, json.dumps(pending).encode())


async def grant(
    client: MessagingClient, group_id: uuid.UUID, user_id: uuid.UUID, scope: str
) -> int:
    """As coordinator: log `grant_history(user, scope)` (once) and send the member's devices
    the keys of every earlier item of that scope this device holds, in HISTORY_GRANT envelopes
    of at most `GRANT_CHUNK` items each (one envelope when there is none). Returns how many."""
    if scope not in GRANT_SCOPES:
        raise CordonClientError(f"scope must be one of {', '.join(GRANT_SCOPES)}")
    session = await client._session(group_id, refresh=True)
    member = session.roster.members.get(user_id)
    if member is None:
        raise CordonClientError(f"user {user_id} is not a member in the verified log")
    if scope not in member.history_scopes:
        root = client._coordinator_key(group_id)
        writer = await client._verified_writer(group_id)  # on the head verified (PROTOCOL §4.5)
        entry = writer.grant_history(root, user_id, now_ms(), scope)
        await client._append(group_id, entry)
        session = await client._session(group_id, refresh=True)
        member = session.roster.members[user_id]
    items = tuple(granted_items(client.state, group_id, scope))
    if scope == "prenotifications":
        items += tuple(await _granted_events(client, group_id, {i.seq for i in items}))
    prekeys = await client._prekeys(group_id)
    devices = [d for d in member.devices if d in prekeys]
    if not devices:
        raise KeyUnavailableError("the member has no certified device to receive the grant")
    client.excluded = []
    for start in range(0, max(len(items), 1), GRANT_CHUNK):
        part = HistoryGrant(user_id, scope, items[start : start + GRANT_CHUNK])

        def seal(targets: Sequence[Recipient], at: int, part: HistoryGrant = part) -> bytes:
            return session.grant_history(part, targets, now_ms=at)

        await client._post_targeted(group_id, session, "library", devices, seal, prekeys=prekeys)
    client._save()
    return len(items)


async def _granted_events(
    client: MessagingClient, group_id: uuid.UUID, granted: set[int]
) -> list[GrantedItem]:
    """The verified status events of the granted pre-notifications in this device's archive,
    bound by the hash of the server's event item as it serves it now (no key: they are
    signed, not encrypted)."""
    raw = client.state.secret(ARCHIVE.format(group_id))
    archived: list[dict[str, Any]] = json.loads(raw) if raw else []
    out = []
    for item in archived:  # the records layer's `Item.to_json` form; it sits above, not imported
        if item["type"] != STATUS_EVENT or not item["valid"] or item["parent_seq"] not in granted:
            continue
        served = await client._call("GET", f"/api/v1/groups/{group_id}/messages/{item['seq']}")
        digest = hashlib.sha256(base64.b64decode(served["envelope"])).digest()
        device = item.get("sender_device_id")
        actor = uuid.UUID(device) if device else uuid.UUID(int=0)
        seq: int = item["seq"]
        out.append(GrantedItem(seq, actor, uuid.UUID(int=0), digest, b""))
    return out


async def import_granted(client: MessagingClient, group_id: uuid.UUID) -> list[Incoming]:
    """Fetch, verify and decrypt the items of every pending grant of the group.

    Returns them as verified `Incoming` items (for the domain layer to validate and archive)
    and, for any that fail, unverified ones naming the item and the reason. Items the server
    does not serve (withheld, or a refused request) stay pending and are asked for again at
    the next sync; nothing else is kept."""
    name = PENDING.format(group_id)
    pending = _load(client.state, name)
    if not pending:
        return []
    session = await client._session(group_id, refresh=True)
    out: list[Incoming] = []
    for grant_id, raw in list(pending.items()):
        history = HistoryGrant.from_bytes(base64.b64decode(raw))
        wanted = {i.seq: i for i in history.items}
        served: dict[int, dict[str, Any]] = {}
        seqs = sorted(wanted)
        for start in range(0, len(seqs), FETCH_BATCH):
            batch = seqs[start : start + FETCH_BATCH]
            try:
                page = await client._call(
                    "GET",
                    f"/api/v1/groups/{group_id}/history/{history.scope}",
                    params=[("seq", str(s)) for s in batch],
                )
            except ApiError:
                break  # try again at the next sync
            served.update((int(item["seq"]), item) for item in page)
        for seq, item in sorted(served.items()):
            if seq not in wanted:
                continue
            meta = item_meta(item)
            granted_item, raw = wanted.pop(seq), base64.b64decode(item["envelope"])
            try:
                if not granted_item.item_key:  # a signed status event, verified when archived
                    check_granted_event(history.scope, granted_item, raw)
                    event = json.loads(raw)
                    out.append(Incoming(**meta, verified=False, content=None, event=event))
                    continue
                _, sender, content = open_granted_item(
                    session.roster, history.scope, granted_item, raw
                )
                if str(sender.member_id) != str(meta["sender_user_id"]):
                    raise HistoryGrantError(
                        f"granted item seq {seq}: the server's sender is not the signed sender"
                    )
            except CryptoError as exc:
                out.append(Incoming(**meta, verified=False, content=None, error=exc.reason))
                continue
            out.append(Incoming(**meta, verified=True, content=content))
        if wanted:
            rest = HistoryGrant(history.member_id, history.scope, tuple(wanted.values()))
            pending[grant_id] = _b64(rest.to_bytes())
        else:
            del pending[grant_id]
    client.state.set_secret(name, json.dumps(pending).encode())
    client._save()
    return out


# -- §9 HISTORY_TRANSFER: the archive one of this member's devices hands to its new device --

TRANSFER_ARCHIVE_VERSION = 1
TRANSFER_BUDGET = 150_000
"""JSON bytes of archive per HISTORY_TRANSFER envelope, as the browser sends them: with the
chain states and document keys of the first part it stays within one envelope (256 KiB)."""
TRANSFERRED = "history-transfers:{}"  # group id: received archive records not yet merged


def transfer_archives(
    group_id: uuid.UUID, records: list[Any], *, first: int = 0, budget: int | None = None
) -> list[bytes]:
    """This device's records archive as the `archive` of HISTORY_TRANSFER envelopes, in the
    browser's form (`clients/web/src/records/history.ts`): UTF-8 JSON `{"v": 1, "group_id",
    "feed": [], "records": [...]}`, each part at most `budget` JSON bytes of items (the first
    `first` bytes less: the chain states and document keys it carries); at least one part."""
    limit = TRANSFER_BUDGET if budget is None else budget
    parts: list[list[Any]] = [[]]
    size = first
    for item in records:
        cost = len(json.dumps(item).encode()) + 1
        if size + cost > limit and (parts[-1] or size):  # size alone: the first part's keys
            parts.append([])
            size = 0
        parts[-1].append(item)
        size += cost
    return [
        json.dumps(
            {"v": TRANSFER_ARCHIVE_VERSION, "group_id": str(group_id), "feed": [], "records": p}
        ).encode()
        for p in parts
    ]


def parse_transfer_archive(group_id: uuid.UUID, archive: bytes) -> list[dict[str, Any]]:
    """The records of a received archive for this group (the browser's or this SDK's form);
    anything else (empty, another group, another form) is nothing. Feed items, which only a
    browser keeps, are not the records archive and are left out."""
    if not archive:
        return []
    try:
        raw = json.loads(archive.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(raw, dict) or raw.get("v") != TRANSFER_ARCHIVE_VERSION:
        return []
    if raw.get("group_id") != str(group_id) or not isinstance(raw.get("records"), list):
        return []
    return [
        r
        for r in raw["records"]
        if isinstance(r, dict)
        and r.get("group_id") == str(group_id)
        and isinstance(r.get("seq"), int)
        and not isinstance(r.get("seq"), bool)
    ]


def keep_transfer(state: ClientState, group_id: uuid.UUID, records: list[dict[str, Any]]) -> None:
    """Keep the records a verified HISTORY_TRANSFER brought until the records layer merges them
    into its archive (`records.store.sync`)."""
    if not records:
        return
    name = TRANSFERRED.format(group_id)
    raw = state.secret(name)
    held: list[dict[str, Any]] = json.loads(raw) if raw else []
    state.set_secret(name, json.dumps(held + records).encode())


def take_transferred(state: ClientState, group_id: uuid.UUID) -> list[dict[str, Any]]:
    """The kept transferred records of the group, removed from the keystore (the caller saves)."""
    name = TRANSFERRED.format(group_id)
    raw = state.secret(name)
    if not raw:
        return []
    state.set_secret(name, b"")
    held: list[dict[str, Any]] = json.loads(raw)
    return held


def groups_with_transfers(state: ClientState) -> list[uuid.UUID]:
    """Groups for which transferred records wait to be merged."""
    prefix = TRANSFERRED.format("")
    _, keystore = state.require()
    return [
        uuid.UUID(name[len(prefix) :])
        for name, value in keystore.secrets.items()
        if name.startswith(prefix) and value not in (b"", b"[]")
    ]


async def transfer(client: MessagingClient, group_id: uuid.UUID, device_id: uuid.UUID) -> int:
    """Hand another device of this member this device's chain states, document keys and
    records archive of the group (PROTOCOL §9): one HISTORY_TRANSFER per archive part, the
    first carrying the keys. Returns how many archived items went."""
    client.excluded = []
    session = await client._session(group_id, refresh=True)
    raw = client.state.secret(ARCHIVE.format(group_id))
    records: list[Any] = json.loads(raw) if raw else []
    keys = session.export_history()
    parts = transfer_archives(group_id, records, first=len(keys.to_bytes()))
    prekeys = await client._prekeys(group_id)
    for n, archive in enumerate(parts):
        bundle = session.export_history(archive) if n == 0 else HistoryBundle(archive=archive)

        def seal(targets: Sequence[Recipient], at: int, bundle: HistoryBundle = bundle) -> bytes:
            return session.transfer_history(bundle, targets[0], now_ms=at)

        await client._post_targeted(
            group_id, session, "history_transfer", [device_id], seal, prekeys=prekeys
        )
    client._save()
    return len(records)
