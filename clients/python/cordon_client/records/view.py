"""The local, pure view of seizure cases and pre-notifications after decryption.

Every decrypted item is checked against the template it names *after* decryption
(`decode_items`); one that does not fit is kept as *refused* with the field path and the
reason, and is never shown as valid. Thread items (replies, reviews, discrepancy findings) are
small templates defined here, so they are validated the same way. `build_cases` and
`build_prenotifications` fold a group's items into cases (versions, thread, review status)
and pre-notifications (versions, discrepancies, signed status events); the filters run on
the decrypted fields, which the server never sees.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cordon_client.crypto import Roster
from cordon_client.exceptions import CryptoError
from cordon_client.messaging.incoming import Incoming
from cordon_client.records.workflow import DISCREPANCY_KINDS, filter_prenotifications, verify_event
from cordon_client.templates.registry import (
    LANGUAGES,
    InvalidContentError,
    Template,
    TemplateError,
    TemplateRegistry,
)

CASE, CASE_AMENDMENT = "seizure_case", "seizure_case_amendment"
REPLY, REVIEW = "case_reply", "case_review"
PN, PN_AMENDMENT, PN_DISCREPANCY = (
    "prenotification",
    "prenotification_amendment",
    "prenotification_discrepancy",
)
STATUS_EVENT, TEXT = "status_event", "text"
VERDICTS = ("verified", "corrections_requested")
# content type -> (stream kind it must travel as, template id it must be written in)
CONTENT_RULES: Mapping[str, tuple[str, str]] = {
    CASE: ("alert", "seizure-case"),
    CASE_AMENDMENT: ("alert", "seizure-case"),
    REPLY: ("chat", "case-reply"),
    REVIEW: ("chat", "case-review"),
    PN: ("prenotification", "vaccine-prenotification"),
    PN_AMENDMENT: ("prenotification", "vaccine-prenotification"),
    PN_DISCREPANCY: ("prenotification", "prenotification-discrepancy"),
}
THREADED = frozenset({CASE_AMENDMENT, REPLY, REVIEW, PN_AMENDMENT, PN_DISCREPANCY})


def _labels(**fields: tuple[str, str, str, str, str, str]) -> dict[str, dict[str, str]]:
    return {k: dict(zip(LANGUAGES, words, strict=True)) for k, words in fields.items()}


def _template(tid: str, properties: dict[str, Any], required: list[str], labels: Any) -> Template:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    body = {
        "id": tid,
        "version": 1,
        "title": tid,
        "default_form": "default",
        "forms": {"default": schema},
        "labels": labels,
    }
    return Template.from_body(body)


TEXT_FIELD = {"type": "string", "minLength": 1, "maxLength": 10000}
THREAD_TEMPLATES = (
    _template(
        "case-reply",
        {"text": TEXT_FIELD},
        ["text"],
        _labels(text=("Text", "Texte", "Texto", "Текст", "النص", "Texto")),
    ),
    _template(
        "case-review",
        {"verdict": {"enum": list(VERDICTS)}, "note": TEXT_FIELD},
        ["verdict"],
        _labels(
            verdict=("Verdict", "Décision", "Dictamen", "Заключение", "القرار", "Parecer"),
            note=("Note", "Note", "Nota", "Примечание", "ملاحظة", "Nota"),
        ),
    ),
    _template(
        "prenotification-discrepancy",
        {
            "kind": {"enum": list(DISCREPANCY_KINDS)},
            "details": TEXT_FIELD,
            "lots": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "quantity_found": {"type": "number", "minimum": 0},
            "temperature_c": {"type": "number"},
        },
        ["kind", "details"],
        _labels(
            kind=(
                "Discrepancy",
                "Anomalie",
                "Discrepancia",
                "Расхождение",
                "التباين",
                "Discrepância",
            ),
            details=(
                "Findings",
                "Constatations",
                "Constataciones",
                "Выводы",
                "النتائج",
                "Constatações",
            ),
            lots=(
                "Lots concerned",
                "Lots concernés",
                "Lotes afectados",
                "Затронутые партии",
                "الدفعات المعنية",
                "Lotes afetados",
            ),
            quantity_found=(
                "Quantity found",
                "Quantité constatée",
                "Cantidad encontrada",
                "Обнаруженное количество",
                "الكمية المعثور عليها",
                "Quantidade encontrada",
            ),
            temperature_c=(
                "Temperature found (°C)",
                "Température (°C)",
                "Temperatura (°C)",
                "Температура (°C)",
                "درجة الحرارة (°م)",
                "Temperatura (°C)",
            ),
        ),
    ),
)


def domain_registry() -> TemplateRegistry:
    """The built-in templates plus the thread templates (reply, review, discrepancy)."""
    registry = TemplateRegistry()
    for template in THREAD_TEMPLATES:
        registry.add(template)
    return registry


@dataclass(frozen=True)
class Item:
    """One decrypted stream item as the domain sees it; `valid=False` items carry `error`."""

    group_id: uuid.UUID
    seq: int
    kind: str
    type: str
    sender_user_id: uuid.UUID | None
    sender_device_id: uuid.UUID | None
    parent_seq: int | None
    valid: bool
    error: str | None = None
    template: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    routing: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    received_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    sent_at: str | None = None  # the sender's signed envelope time (PROTOCOL §5.1)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict, for the local archive."""
        out = asdict(self)
        for key in ("group_id", "sender_user_id", "sender_device_id"):
            out[key] = str(out[key]) if out[key] is not None else None
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Item:
        """Inverse of `to_json`."""
        values = dict(raw)
        for key in ("group_id", "sender_user_id", "sender_device_id"):
            values[key] = uuid.UUID(values[key]) if values.get(key) else None
        return cls(**values)

    def refuse(self, reason: str) -> Item:
        """The same item, refused for `reason`."""
        return replace(self, valid=False, error=reason)


def content_item(
    *,
    group_id: uuid.UUID,
    seq: int,
    kind: str,
    sender_user_id: uuid.UUID | None,
    sender_device_id: uuid.UUID | None,
    parent_seq: int | None,
    content: bytes,
    registry: TemplateRegistry,
    coordinators: Collection[uuid.UUID] | None = None,
    sent_at: datetime | None = None,
) -> Item:
    """Validate decrypted content against its template and the rules of its content type."""
    base = Item(
        group_id,
        seq,
        kind,
        TEXT,
        sender_user_id,
        sender_device_id,
        parent_seq,
        True,
        sent_at=sent_at.isoformat() if sent_at else None,
    )
    try:
        raw = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raw = None
    if not isinstance(raw, dict) or "type" not in raw:
        if kind == "prenotification":
            return base.refuse("(message): a pre-notification must be template content")
        return replace(base, data={"text": content.decode("utf-8", "replace")})
    try:
        checked = registry.read_content(content)
    except InvalidContentError as exc:
        return replace(base, type=str(raw.get("type")), valid=False, error=str(exc))
    except TemplateError as exc:
        return replace(base, type=str(raw.get("type")), valid=False, error=f"template: {exc}")
    item = replace(
        base,
        type=checked["type"],
        template=dict(checked["template"]),
        data=dict(checked["data"]),
        routing=checked.get("routing") if isinstance(checked.get("routing"), dict) else None,
    )
    reason = _rule_violation(item, coordinators)
    return item.refuse(reason) if reason else item


def _rule_violation(item: Item, coordinators: Collection[uuid.UUID] | None) -> str | None:
    rule = CONTENT_RULES.get(item.type)
    if rule is None:
        return f"type: {item.type!r} is not a known content type"
    kind, template_id = rule
    if item.kind != kind:
        return f"type: {item.type} must travel as {kind}, not {item.kind}"
    if item.template is None or item.template.get("id") != template_id:
        return f"template.id: {item.type} must be written in {template_id}"
    if item.type in THREADED and item.parent_seq is None:
        return "parent_seq: is required (it names the case or pre-notification)"
    if item.type == PN and item.routing is None:
        return "routing: a pre-notification must name its destination and transit users"
    if item.type == REVIEW and coordinators is not None and item.sender_user_id not in coordinators:
        return "sender: only a coordinator of the verified roster may review a case"
    return None


def decode_items(
    incoming: Iterable[Incoming],
    *,
    registry: TemplateRegistry,
    own_device: uuid.UUID | None = None,
    coordinators: Collection[uuid.UUID] | None = None,
) -> list[Item]:
    """Domain items from a sync: validated after decryption, refused ones kept with a reason.

    Items this device sent are skipped (it cannot decrypt its own envelopes; the archive
    holds them from when they were sent). Server events other than pre-notification status
    events are not domain items. A status event comes back *unverified* until
    `verify_status_event` has checked its signature against the verified roster.
    """
    out: list[Item] = []
    for inc in incoming:
        if inc.sender_device_id == own_device and own_device is not None and inc.event is None:
            continue
        meta = (inc.group_id, inc.seq, inc.kind)
        who = (inc.sender_user_id, inc.sender_device_id, inc.parent_seq)
        if inc.event is not None:
            if inc.kind == "prenotification_event":
                out.append(
                    Item(*meta, STATUS_EVENT, *who, False, "not yet verified", event=inc.event)
                )
            continue
        if inc.kind not in ("alert", "chat", "prenotification"):
            continue
        if not inc.verified or inc.content is None:
            out.append(Item(*meta, "refused", *who, False, inc.error or "not verified"))
            continue
        out.append(
            content_item(
                group_id=inc.group_id,
                seq=inc.seq,
                kind=inc.kind,
                sender_user_id=inc.sender_user_id,
                sender_device_id=inc.sender_device_id,
                parent_seq=inc.parent_seq,
                content=inc.content,
                registry=registry,
                coordinators=coordinators,
                sent_at=inc.sent_at,
            )
        )
    return out


def verify_status_event(item: Item, roster: Roster, detail: bytes | None) -> Item:
    """Check a status event's signature under the acting device's key from the verified roster."""
    event = item.event or {}
    try:
        device_id = uuid.UUID(str(event["actor_device_id"]))
        device = roster.device(device_id)
        if device is None:
            return item.refuse("signature: the acting device is not in the verified roster")
        if str(device.member_id) != str(event.get("actor_user_id")):
            return item.refuse("signature: the acting device belongs to another member")
        verify_event(
            device.signing_key,
            bytes.fromhex(str(event["sig"])),
            group_id=roster.group_id,
            prenotification_id=uuid.UUID(str(event["prenotification_id"])),
            seq=int(event["seq"]),
            from_status=str(event["from"]),
            to_status=str(event["to"]),
            ts=int(event["ts"]),
            detail=detail,
        )
    except CryptoError as exc:
        return item.refuse(exc.reason)
    except (KeyError, ValueError, TypeError):
        return item.refuse("status event: malformed")
    return replace(item, valid=True, error=None)


def thread_root(items: Mapping[int, Item], seq: int) -> int:
    """The case or pre-notification a (possibly nested) thread item belongs to."""
    seen: set[int] = set()
    while seq not in seen:
        seen.add(seq)
        parent = items[seq].parent_seq if seq in items else None
        if parent is None or parent not in items:
            return seq
        seq = parent
    return seq


def _record(
    original: Item, versions: list[Item], status: str, data: Any, **ids: str | None
) -> dict[str, Any]:
    """``{meta, data}`` of a case or a pre-notification: its latest version's template."""
    template = versions[-1].template or {}
    meta = {
        "seq": original.seq,
        **ids,
        "sender": str(original.sender_user_id),
        "sent_at": original.sent_at,
        "status": status,
        "template": template.get("id"),
        "template_version": template.get("version"),
        "version": len(versions),
    }
    return {"meta": meta, "data": data}


@dataclass
class CaseView:
    """A seizure case: its versions (original first), thread, reviews and refused items."""

    original: Item
    versions: list[Item] = field(default_factory=list)
    replies: list[Item] = field(default_factory=list)
    reviews: list[Item] = field(default_factory=list)
    refused: list[Item] = field(default_factory=list)

    @property
    def seq(self) -> int:
        """The case's seq in the group stream: its id."""
        return self.original.seq

    @property
    def data(self) -> dict[str, Any]:
        """The latest valid version."""
        return dict(self.versions[-1].data or {})

    @property
    def status(self) -> str:
        """``unreviewed``, ``verified``, ``corrections_requested`` or ``amended`` (since review)."""
        moves = sorted([*self.versions[1:], *self.reviews], key=lambda i: i.seq)
        if not moves:
            return "unreviewed"
        last = moves[-1]
        if last.type == REVIEW:
            return str((last.data or {}).get("verdict"))
        return "amended" if self.reviews else "unreviewed"

    def record(self) -> dict[str, Any]:
        """``{meta, data}`` for export and filters."""
        return _record(self.original, self.versions, self.status, self.data)


def build_cases(items: Iterable[Item]) -> list[CaseView]:
    """Fold items into cases; amendments only count from the case's sender."""
    by_seq = {i.seq: i for i in items}
    cases = {s: CaseView(i, [i]) for s, i in sorted(by_seq.items()) if i.type == CASE and i.valid}
    for seq, item in sorted(by_seq.items()):
        if item.type not in (CASE_AMENDMENT, REPLY, REVIEW):
            continue
        case = cases.get(thread_root(by_seq, seq))
        if case is None:
            continue
        if not item.valid:
            case.refused.append(item)
        elif item.type == CASE_AMENDMENT:
            if item.sender_user_id != case.original.sender_user_id:
                case.refused.append(item.refuse("sender: only the case's sender may amend it"))
            else:
                case.versions.append(item)
        else:
            (case.reviews if item.type == REVIEW else case.replies).append(item)
    return list(cases.values())


@dataclass
class PrenotificationView:
    """A pre-notification: versions, discrepancy findings, verified status events."""

    original: Item
    versions: list[Item] = field(default_factory=list)
    discrepancies: list[Item] = field(default_factory=list)
    events: list[Item] = field(default_factory=list)
    refused: list[Item] = field(default_factory=list)
    server: dict[str, Any] | None = None

    @property
    def seq(self) -> int:
        """The pre-notification's seq in the group stream."""
        return self.original.seq

    @property
    def id(self) -> str | None:
        """The server's id (the envelope's message id), once known from an event or a list."""
        if self.server is not None:
            return str(self.server["id"])
        for event in self.events:
            return str((event.event or {}).get("prenotification_id"))
        return (self.original.routing or {}).get("prenotification_id")

    @property
    def data(self) -> dict[str, Any]:
        """The latest valid version."""
        return dict(self.versions[-1].data or {})

    @property
    def status(self) -> str:
        """The status after the last *verified* signed event (``sent`` before any)."""
        if not self.events:
            return "sent"
        return str((self.events[-1].event or {}).get("to"))

    @property
    def server_status(self) -> str | None:
        """What the server says, which may run ahead of what this device has verified."""
        return str(self.server["status"]) if self.server is not None else None

    def record(self) -> dict[str, Any]:
        """``{meta, data}`` for export and filters (with the server's id)."""
        return _record(self.original, self.versions, self.status, self.data, id=self.id)


def build_prenotifications(items: Iterable[Item]) -> list[PrenotificationView]:
    """Fold items into pre-notifications; amendments only count from the sender."""
    by_seq = {i.seq: i for i in items}
    views = {
        s: PrenotificationView(i, [i])
        for s, i in sorted(by_seq.items())
        if i.type == PN and i.valid
    }
    for item in sorted(by_seq.values(), key=lambda i: i.seq):
        if item.type not in (PN_AMENDMENT, PN_DISCREPANCY, STATUS_EVENT):
            continue
        view = views.get(item.parent_seq) if item.parent_seq is not None else None
        if view is None:
            continue
        if not item.valid:
            view.refused.append(item)
        elif item.type == STATUS_EVENT:
            view.events.append(item)
        elif item.type == PN_DISCREPANCY:
            view.discrepancies.append(item)
        elif item.sender_user_id != view.original.sender_user_id:
            view.refused.append(item.refuse("sender: only the pre-notification's sender may amend"))
        else:
            view.versions.append(item)
    return list(views.values())


def filter_cases(
    cases: Iterable[CaseView],
    *,
    status: Iterable[str] | None = None,
    country: str | None = None,
    handling_code: str | None = None,
) -> list[CaseView]:
    """Cases by review status, by any country they name, or by handling code."""
    wanted = set(status) if status is not None else None
    out = []
    for case in cases:
        data = case.data
        countries = {data.get("reporting_country")}
        for report in data.get("reports", []):
            countries |= {
                report.get("origin_country"),
                report.get("departure_country"),
                report.get("destination_country"),
                *report.get("transit_countries", []),
            }
        if wanted is not None and case.status not in wanted:
            continue
        if country is not None and country.upper() not in countries:
            continue
        if handling_code is not None and data.get("handling_code") != handling_code.upper():
            continue
        out.append(case)
    return out


def filter_views(
    views: Iterable[PrenotificationView],
    *,
    status: Iterable[str] | None = None,
    eta_after: datetime | None = None,
    eta_before: datetime | None = None,
    country: str | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> list[PrenotificationView]:
    """Pre-notifications by verified status, decrypted ETA, country and overdue."""
    pairs = [(v.record(), v) for v in views]
    kept = filter_prenotifications(
        [r for r, _ in pairs],
        status=status,
        eta_from=eta_after,
        eta_to=eta_before,
        country=country,
        overdue=overdue,
        now=now,
    )
    ids = {id(r) for r in kept}
    return [v for r, v in pairs if id(r) in ids]
