"""The domain layer's local archive and sync (see `cordon_client._domain`).

Decrypted items are kept in the encrypted keystore (``domain-archive:<group id>``) because a
broadcast can be decrypted only once: its message key is deleted on use. `sync` receives,
validates after decryption, verifies status events against the roster, and archives.
"""

import base64
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from cordon_client._client import Cordon
from cordon_client.crypto import GroupSession, Roster
from cordon_client.exceptions import ApiError, CordonClientError
from cordon_client.messaging import history as history
from cordon_client.records.view import (
    STATUS_EVENT,
    Item,
    content_item,
    decode_items,
    domain_registry,
    verify_status_event,
)
from cordon_client.templates.registry import TemplateError, TemplateRegistry

ARCHIVE = "domain-archive:{}"


class DomainError(CordonClientError):
    """A case or pre-notification operation the client refuses before calling the server."""


# -- local archive ---------------------------------------------------------------------------


def archived(cordon: Cordon, group_id: uuid.UUID) -> list[Item]:
    """Every domain item this device holds for the group, by seq."""
    raw = cordon.state.secret(ARCHIVE.format(group_id))
    return [Item.from_json(i) for i in json.loads(raw)] if raw else []


def store(cordon: Cordon, group_id: uuid.UUID, items: Iterable[Item]) -> None:
    """Add or replace items (by seq) in the group's archive; saved with the keystore. An item
    held valid is not replaced by a refused copy of the same seq (opening a server item again
    can fail once its key is spent; what was verified stands)."""
    known = {i.seq: i for i in archived(cordon, group_id)}
    for item in items:
        held = known.get(item.seq)
        if held is None or item.valid or not held.valid:
            known[item.seq] = item
    data = [known[s].to_json() for s in sorted(known)]
    cordon.state.set_secret(ARCHIVE.format(group_id), json.dumps(data).encode())
    cordon._save()


def merge_transferred(cordon: Cordon, group_id: uuid.UUID) -> list[Item]:
    """Add the records a HISTORY_TRANSFER from another device of this member brought (PROTOCOL
    §9, the browser's or the SDK's archive form) to the group's archive: in place of what this
    device could not read, never over an item it holds valid. A record that does not parse as
    an archive item is dropped. Returns the items added."""
    valid = {i.seq for i in archived(cordon, group_id) if i.valid}
    added: dict[int, Item] = {}
    for raw in history.take_transferred(cordon.state, group_id):
        try:
            item = Item.from_json(raw)
        except (TypeError, ValueError, AttributeError):
            continue
        if item.group_id == group_id and isinstance(item.valid, bool) and item.seq not in valid:
            added[item.seq] = item
    store(cordon, group_id, added.values())  # saves, also the taken transfer
    return list(added.values())


def whoami(cordon: Cordon) -> tuple[uuid.UUID, uuid.UUID]:
    """This device's user id and device id."""
    profile, keystore = cordon.state.require()
    return uuid.UUID(profile.user_id), keystore.device_id


def archive_own(
    cordon: Cordon,
    group_id: uuid.UUID,
    seq: int,
    kind: str,
    content: bytes,
    registry: TemplateRegistry,
    parent_seq: int | None = None,
    sent_at: datetime | None = None,
) -> Item:
    """Archive an item this device just sent (it cannot decrypt its own envelopes); its send
    time is now unless the caller knows the signed one."""
    user_id, device_id = whoami(cordon)
    item = content_item(
        group_id=group_id,
        seq=seq,
        kind=kind,
        sender_user_id=user_id,
        sender_device_id=device_id,
        parent_seq=parent_seq,
        content=content,
        registry=registry,
        sent_at=sent_at or datetime.now(UTC),
    )
    store(cordon, group_id, [item])
    return item


def coordinators(roster: Roster) -> set[uuid.UUID]:
    """Members whose role in the verified roster is coordinator."""
    return {m.member_id for m in roster.members.values() if m.role == "coordinator"}


def trusted_template_keys(roster: Roster) -> set[bytes]:
    """Keys allowed to sign group templates: the root and coordinators' member/device keys."""
    keys = {roster.root_key}
    for member in roster.members.values():
        if member.role == "coordinator":
            keys.add(member.member_key)
            keys |= {d.signing_key for d in member.devices.values()}
    return keys


async def load_group_templates(
    cordon: Cordon, group_id: uuid.UUID, registry: TemplateRegistry
) -> list[str]:
    """Add the group's published template versions that verify; returns the refusals."""
    session = await cordon._session(group_id)
    listing = await cordon._call("GET", f"/api/v1/groups/{group_id}/templates")
    refused = []
    for entry in listing["items"]:
        tid, version = entry["template_id"], int(entry["version"])
        if version in registry.versions(tid):
            continue
        doc = await cordon._call(
            "GET", f"/api/v1/groups/{group_id}/templates/{tid}/versions/{version}"
        )
        try:
            registry.add_signed(
                doc["document"],
                group_id=group_id,
                trusted_keys=trusted_template_keys(session.roster),
            )
        except TemplateError as exc:
            refused.append(f"{tid} v{version}: {exc}")
    return refused


# -- sync ---------------------------------------------------------------------------------


async def sync(cordon: Cordon, *, registry: TemplateRegistry | None = None) -> list[Item]:
    """Receive everything new, validate it after decryption, verify status events, archive it.

    Returns the new domain items (valid and refused) across all groups.
    """
    reg = registry or domain_registry()
    await cordon.receive()
    incoming = cordon.take_inbox()  # also what `listen()` took off the stream meanwhile
    for group_id in _groups_with_grants(cordon):
        incoming += await history.import_granted(cordon, group_id)  # PROTOCOL §9
    _, device_id = whoami(cordon)
    out: list[Item] = []
    for group_id in dict.fromkeys(i.group_id for i in incoming):
        mine = [i for i in incoming if i.group_id == group_id]
        session = await cordon._session(group_id, refresh=True)
        await load_group_templates(cordon, group_id, reg)
        items = decode_items(
            mine, registry=reg, own_device=device_id, coordinators=coordinators(session.roster)
        )
        items = [await _verify_event(cordon, group_id, session, i) for i in items]
        store(cordon, group_id, items)
        out += items
    for group_id in history.groups_with_transfers(cordon.state):  # PROTOCOL §9, a new device
        out += merge_transferred(cordon, group_id)
    return out


async def sync_all(
    cordon: Cordon, *, registry: TemplateRegistry | None = None, max_pages: int = 10_000
) -> list[Item]:
    """`sync` page after page until the stream is caught up (a device that was away, or a
    report over a whole operation, has more than one page of items waiting)."""
    out: list[Item] = []
    for _ in range(max_pages):
        out += await sync(cordon, registry=registry)
        if cordon.caught_up:
            break
    return out


def _groups_with_grants(cordon: Cordon) -> list[uuid.UUID]:
    """Groups for which a verified history grant waits to be imported."""
    prefix = history.PENDING.format("")
    _, keystore = cordon.state.require()
    return [
        uuid.UUID(name[len(prefix) :])
        for name, value in keystore.secrets.items()
        if name.startswith(prefix) and value not in (b"", b"{}")
    ]


async def _granted_detail(cordon: Cordon, group_id: uuid.UUID, seq: int) -> dict[str, str]:
    """The detail envelope of an imported status event, through the history route; an empty
    one (so the event is refused) if the server does not serve it."""
    try:
        served = await cordon._call(
            "GET", f"/api/v1/groups/{group_id}/history/prenotifications", params={"seq": seq}
        )
    except ApiError:
        return {"envelope": ""}
    return dict(served[0]) if served else {"envelope": ""}


async def _verify_event(
    cordon: Cordon, group_id: uuid.UUID, session: GroupSession, item: Item
) -> Item:
    if item.type != STATUS_EVENT:
        return item
    detail_seq = (item.event or {}).get("detail_seq")
    detail = None
    if detail_seq is not None:
        try:
            fetched = await cordon._call("GET", f"/api/v1/groups/{group_id}/messages/{detail_seq}")
        except ApiError:  # an imported event of an earlier pre-notification (PROTOCOL §9.1)
            fetched = await _granted_detail(cordon, group_id, int(detail_seq))
        detail = base64.b64decode(fetched["envelope"])
    return verify_status_event(item, session.roster, detail)
