"""Vaccine pre-notifications through ``/prenotifications`` (docs/workflows.md).

Sealed only to the destination, transit and coordinator devices of the verified roster (and
the sender's other devices). The encrypted content repeats the routing, so a party acting
later seals details only to users the sender named, whatever the server's list says.
Transitions are signed by the acting device (docs/PROTOCOL.md §12).
"""

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from cordon_client._client import Cordon
from cordon_client.account.client import now_ms
from cordon_client.cases.operations import post_case
from cordon_client.crypto import ContentType, GroupSession, Roster
from cordon_client.exceptions import ApiError, KeyUnavailableError
from cordon_client.records.store import (
    DomainError,
    archive_own,
    archived,
    coordinators,
    whoami,
)
from cordon_client.records.view import (
    PN,
    PN_AMENDMENT,
    PN_DISCREPANCY,
    Item,
    PrenotificationView,
    build_prenotifications,
    domain_registry,
    filter_views,
)
from cordon_client.records.workflow import (
    COORDINATOR,
    DESTINATION,
    DETAIL_REQUIRED,
    SENDER,
    allowed_moves,
    sign_event,
)
from cordon_client.records.workflow import discrepancy_to_case as prefill_case
from cordon_client.templates.registry import Template, TemplateRegistry
from cordon_client.wire import (
    NO_LABELS,
    ROLE_DESTINATION,
    ROLE_TRANSIT,
    Labels,
    MessageRef,
)


async def post_targeted(
    cordon: Cordon,
    session: GroupSession,
    content: bytes,
    user_ids: Iterable[uuid.UUID],
    *,
    message_id: uuid.UUID | None = None,
    labels: Labels = NO_LABELS,
) -> tuple[bytes, list[uuid.UUID]]:
    """Seal PRENOTIFICATION content to the verified devices of those users and your others.

    Returns the envelope and its recipient devices; the caller posts it to the route that
    enforces the routing (``/prenotifications``). Every named user must have a certified
    device with a valid prekey, else KeyUnavailableError names them; a device whose prekey
    does not verify is left out and reported in `cordon.excluded`; a named user left with no
    device raises that ExcludedDeviceError (PROTOCOL §3). `session` is the group's
    session its caller just refreshed (and decided the parties on): not fetched again.
    """
    group_id = session.roster.group_id
    prekeys = await cordon._prekeys(group_id)
    me, my_device = whoami(cordon)
    wanted = set(user_ids) - {me}
    devices: list[uuid.UUID] = []
    for user_id in sorted(wanted | {me}, key=str):
        member = session.roster.members.get(user_id)
        usable = [d for d in (member.devices if member else {}) if d in prekeys and d != my_device]
        if not usable and user_id in wanted:
            raise KeyUnavailableError(f"user {user_id} has no certified device with a prekey")
        devices += sorted(usable, key=str)
    now = now_ms()
    selection = await cordon._choose_prekeys(group_id, session, prekeys, devices, now)
    targets = selection.recipients
    kept = {t.device_id for t in targets}
    for user_id in sorted(wanted, key=str):  # the server refuses a party it does not reach
        lost = [e for e in selection.excluded if e.member_id == user_id]
        if lost and not any(d in kept for d in session.roster.members[user_id].devices):
            raise lost[0]
    envelope = session.encrypt_targeted(
        ContentType.PRENOTIFICATION,
        content,
        targets,
        now_ms=now,
        message_id=message_id,
        labels=labels,
    )
    cordon._save()
    return envelope, [d for d in devices if d in kept]  # a device left out is not routed


def _with_routing(content: bytes, routing: Mapping[str, Any]) -> bytes:
    body = json.loads(content) | {"routing": dict(routing)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def send_prenotification(
    cordon: Cordon,
    group_id: uuid.UUID,
    prenotification: Mapping[str, Any],
    *,
    destination: Sequence[uuid.UUID],
    transit: Sequence[uuid.UUID] = (),
    disclose_eta: bool = False,
    template: Template | None = None,
    registry: TemplateRegistry | None = None,
) -> dict[str, Any]:
    """Validate and send a pre-notification to its destination, transit users and coordinators.

    Args:
        destination: user ids of the destination administration (at least one).
        transit: user ids of declared transit administrations.
        disclose_eta: also give the server the ETA as routing metadata (server-side overdue
            lists; the server operator then learns when the consignment lands).

    Returns:
        The server's record (id, status, recipients, events).
    """
    if not destination:
        raise DomainError("a pre-notification needs at least one destination user")
    reg = registry or domain_registry()
    chosen = template or reg.get("vaccine-prenotification")
    content = reg.make_content(PN, chosen.id, prenotification, version=chosen.version)
    session = await cordon._session(group_id, refresh=True)
    message_id = uuid.uuid4()
    routing = {
        "prenotification_id": str(message_id),
        "destination": [str(u) for u in destination],
        "transit": [str(u) for u in transit],
    }
    content = _with_routing(content, routing)
    cordon.excluded = []
    parties = {*destination, *transit, *coordinators(session.roster)}
    roles = [(u, ROLE_DESTINATION) for u in destination] + [(u, ROLE_TRANSIT) for u in transit]
    envelope, _ = await post_targeted(
        cordon, session, content, parties, message_id=message_id, labels=Labels(roles=tuple(roles))
    )
    body: dict[str, Any] = {
        "envelope": base64.b64encode(envelope).decode(),
        "destination": [str(u) for u in destination],
        "transit": [str(u) for u in transit],
        "template_id": chosen.id,
        "template_version": chosen.version,
    }
    eta = prenotification.get("transport", {}).get("eta")
    if disclose_eta and eta:
        body["eta"] = eta
    record: dict[str, Any] = await cordon._call(
        "POST", f"/api/v1/groups/{group_id}/prenotifications", json=body
    )
    archive_own(cordon, group_id, int(record["stream_seq"]), "prenotification", content, reg)
    return record


async def prenotification(
    cordon: Cordon, group_id: uuid.UUID, prenotification_id: uuid.UUID
) -> PrenotificationView:
    """One pre-notification: decrypted on this device, joined with the server's record.

    An earlier one imported through a history grant (PROTOCOL.md §9.1) has no server record
    for a member who is not a party: it is shown from the archive alone."""
    missing: ApiError | None = None
    try:
        record: dict[str, Any] | None = await cordon._call(
            "GET", f"/api/v1/groups/{group_id}/prenotifications/{prenotification_id}"
        )
    except ApiError as exc:
        if exc.code != "prenotification.not_found":
            raise
        record, missing = None, exc
    for view in build_prenotifications(archived(cordon, group_id)):
        routing = view.original.routing or {}
        if record is not None and view.seq == record["stream_seq"]:
            view.server = record
            return view
        if record is None and routing.get("prenotification_id") == str(prenotification_id):
            return view
    if missing is not None:
        raise missing
    raise DomainError(f"pre-notification {prenotification_id} is not decrypted on this device")


async def prenotifications(
    cordon: Cordon,
    group_id: uuid.UUID,
    *,
    status: Iterable[str] | None = None,
    eta_after: datetime | None = None,
    eta_before: datetime | None = None,
    country: str | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> list[PrenotificationView]:
    """The pre-notifications you are party to, filtered on decrypted fields (ETA, country)."""
    records: dict[int, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await cordon._call(
            "GET", f"/api/v1/groups/{group_id}/prenotifications", params=params
        )
        records |= {int(r["stream_seq"]): r for r in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor or not page["items"]:
            break
    views = build_prenotifications(archived(cordon, group_id))
    for view in views:
        view.server = records.get(view.seq)
    return filter_views(
        views,
        status=status,
        eta_after=eta_after,
        eta_before=eta_before,
        country=country,
        overdue=overdue,
        now=now,
    )


def _parties(
    view: PrenotificationView, roster: Roster, record: Mapping[str, Any]
) -> set[uuid.UUID]:
    """Who a detail is sealed to: users the sender named, current coordinators the server
    addressed, and the sender; a user only the server lists is left out."""
    routing = view.original.routing or {}
    named = {uuid.UUID(u) for u in [*routing.get("destination", []), *routing.get("transit", [])]}
    listed = {uuid.UUID(r["user_id"]) for r in record["recipients"]}
    sender = view.original.sender_user_id
    return (listed & (named | coordinators(roster))) | ({sender} if sender else set())


def _capacities(view: PrenotificationView, roster: Roster, me: uuid.UUID) -> set[str]:
    routing = view.original.routing or {}
    held = set()
    if view.original.sender_user_id == me:
        held.add(SENDER)
    if str(me) in routing.get("destination", []):
        held.add(DESTINATION)
    if me in coordinators(roster):
        held.add(COORDINATOR)
    return held


async def transition(
    cordon: Cordon,
    group_id: uuid.UUID,
    prenotification_id: uuid.UUID,
    to_status: str,
    detail: Mapping[str, Any] | None = None,
    *,
    registry: TemplateRegistry | None = None,
) -> dict[str, Any]:
    """Move a pre-notification to `to_status` with an event signed by this device.

    `amended` needs the new version as `detail` (validated against its template);
    `discrepancy` needs the findings (``{kind, details, lots?, quantity_found?,
    temperature_c?}``). The detail is sealed to the parties the sender named.
    """
    view = await prenotification(cordon, group_id, prenotification_id)
    record = view.server or {}
    session = await cordon._session(group_id, refresh=True)
    me, _ = whoami(cordon)
    status = str(record["status"])
    if to_status not in allowed_moves(status, _capacities(view, session.roster, me)):
        raise DomainError(f"you may not move this pre-notification from {status} to {to_status}")
    reg = registry or domain_registry()
    envelope = content = None
    if to_status in DETAIL_REQUIRED:
        if detail is None:
            raise DomainError(f"{to_status} needs a detail (the new version or the findings)")
        if to_status == "amended":
            template = reg.get(str(view.original.template["id"]) if view.original.template else "")
            content = reg.make_content(PN_AMENDMENT, template.id, detail, version=template.version)
        else:
            content = reg.make_content(PN_DISCREPANCY, "prenotification-discrepancy", detail)
        parties = _parties(view, session.roster, record)
        original = view.original.sender_device_id
        target = MessageRef(original, prenotification_id) if original is not None else None
        envelope, _ = await post_targeted(
            cordon, session, content, parties, labels=Labels(reply_to=target)
        )
    ts = now_ms()
    _, keystore = cordon.state.require()
    signature = sign_event(
        keystore.signing_key,
        group_id=group_id,
        prenotification_id=prenotification_id,
        seq=int(record["event_count"]),
        from_status=status,
        to_status=to_status,
        ts=ts,
        detail=envelope,
    )
    body: dict[str, Any] = {
        "from_status": status,
        "to_status": to_status,
        "seq": int(record["event_count"]),
        "ts": ts,
        "signature": base64.b64encode(signature).decode(),
    }
    if envelope is not None:
        body["detail_envelope"] = base64.b64encode(envelope).decode()
    try:
        updated: dict[str, Any] = await cordon._call(
            "POST",
            f"/api/v1/groups/{group_id}/prenotifications/{prenotification_id}/events",
            json=body,
        )
    except ApiError as exc:
        raise DomainError(f"the server refused the transition: {exc.code}: {exc.detail}") from exc
    detail_seq = updated["events"][-1].get("detail_seq")
    if content is not None and detail_seq is not None:
        archive_own(cordon, group_id, int(detail_seq), "prenotification", content, reg, view.seq)
    return updated


async def discrepancy_to_case(
    cordon: Cordon,
    group_id: uuid.UUID,
    prenotification_id: uuid.UUID,
    *,
    reporting_country: str,
    kind: str | None = None,
    seizure_date: date | None = None,
    form: str = "simplified",
    post: bool = False,
    registry: TemplateRegistry | None = None,
) -> tuple[dict[str, Any], Item | None]:
    """A seizure case pre-filled from a pre-notification and its latest discrepancy.

    The discrepancy's kind and lots carry over unless `kind` is given. With `post=True` the
    case is validated and broadcast at once (one step); otherwise it is returned for editing.
    """
    view = await prenotification(cordon, group_id, prenotification_id)
    finding = (view.discrepancies[-1].data or {}) if view.discrepancies else {}
    chosen = kind or finding.get("kind")
    if chosen is None:
        raise DomainError("no discrepancy recorded yet: pass its kind")
    remarks = (
        f"Discrepancy on pre-notification {prenotification_id}: {finding.get('details', chosen)}"
    )
    case = prefill_case(
        view.data,
        reporting_country=reporting_country,
        kind=str(chosen),
        seizure_date=seizure_date or datetime.now(UTC).date(),
        lots=finding.get("lots") or None,
        remarks=remarks[:2000],
    )
    if not post:
        return case, None
    return case, await post_case(cordon, group_id, case, form=form, registry=registry)
