"""The pre-notification workflow as a client sees it: the state machine, signed status events,
filters over decrypted pre-notifications, and discrepancy → seizure case in one step.

The server enforces the same table (``app/prenotifications/workflow.py``; docs/workflows.md);
the client uses it to offer only the moves that will be accepted and to check the history it
is shown. A status event is signed by the acting device over
``sig_input("prenotification-event", group_id, prenotification_id, seq, from, to, ts,
detail_hash)`` where ``detail_hash`` is SHA-256 of the attached envelope, or empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cordon_client.crypto._encoding import sha256, signing_input
from cordon_client.exceptions import SignatureError

SENDER, DESTINATION, COORDINATOR = "sender", "destination", "coordinator"
STATUSES = (
    "sent",
    "acknowledged",
    "arrived",
    "cleared",
    "closed",
    "amended",
    "cancelled",
    "discrepancy",
)
TERMINAL = frozenset({"closed", "cancelled"})
TRANSITIONS: Mapping[tuple[str, str], frozenset[str]] = {
    ("sent", "acknowledged"): frozenset({DESTINATION}),
    ("amended", "acknowledged"): frozenset({DESTINATION}),
    ("acknowledged", "arrived"): frozenset({DESTINATION}),
    ("arrived", "cleared"): frozenset({DESTINATION}),
    ("discrepancy", "cleared"): frozenset({DESTINATION}),
    ("acknowledged", "discrepancy"): frozenset({DESTINATION}),
    ("arrived", "discrepancy"): frozenset({DESTINATION}),
    ("sent", "amended"): frozenset({SENDER}),
    ("acknowledged", "amended"): frozenset({SENDER}),
    ("amended", "amended"): frozenset({SENDER}),
    ("sent", "cancelled"): frozenset({SENDER}),
    ("acknowledged", "cancelled"): frozenset({SENDER}),
    ("amended", "cancelled"): frozenset({SENDER}),
    ("cleared", "closed"): frozenset({SENDER, COORDINATOR}),
    ("discrepancy", "closed"): frozenset({SENDER, COORDINATOR}),
}
DETAIL_REQUIRED = frozenset({"amended", "discrepancy"})
DISCREPANCY_KINDS = ("quantity", "temperature", "suspected_falsification")
AWAITING_ACK = frozenset({"sent", "amended"})


def allowed_moves(status: str, capacities: Iterable[str]) -> list[str]:
    """The statuses a user acting in these capacities may move a pre-notification to."""
    held = set(capacities)
    return sorted(to for (frm, to), who in TRANSITIONS.items() if frm == status and who & held)


def event_signing_input(
    *,
    group_id: uuid.UUID,
    prenotification_id: uuid.UUID,
    seq: int,
    from_status: str,
    to_status: str,
    ts: int,
    detail: bytes | None,
) -> bytes:
    """The exact bytes a status event's signature covers."""
    detail_hash = sha256(detail) if detail is not None else b""
    return signing_input(
        "prenotification-event",
        group_id,
        prenotification_id,
        seq,
        from_status,
        to_status,
        ts,
        detail_hash,
    )


def sign_event(
    signing_key: Ed25519PrivateKey,
    *,
    group_id: uuid.UUID,
    prenotification_id: uuid.UUID,
    seq: int,
    from_status: str,
    to_status: str,
    ts: int,
    detail: bytes | None = None,
) -> bytes:
    """Sign one status transition with the acting device's key."""
    return signing_key.sign(
        event_signing_input(
            group_id=group_id,
            prenotification_id=prenotification_id,
            seq=seq,
            from_status=from_status,
            to_status=to_status,
            ts=ts,
            detail=detail,
        )
    )


def verify_event(
    device_key: bytes,
    signature: bytes,
    *,
    group_id: uuid.UUID,
    prenotification_id: uuid.UUID,
    seq: int,
    from_status: str,
    to_status: str,
    ts: int,
    detail: bytes | None = None,
) -> None:
    """Raise SignatureError unless the device (from the verified roster) signed this event."""
    message = event_signing_input(
        group_id=group_id,
        prenotification_id=prenotification_id,
        seq=seq,
        from_status=from_status,
        to_status=to_status,
        ts=ts,
        detail=detail,
    )
    try:
        Ed25519PublicKey.from_public_bytes(device_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise SignatureError("status event: signature does not verify") from None


def _eta(data: Mapping[str, Any]) -> datetime | None:
    raw = data.get("transport", {}).get("eta")
    if not isinstance(raw, str):
        return None
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def is_overdue(status: str, data: Mapping[str, Any], now: datetime) -> bool:
    """Not acknowledged by its ETA: still awaiting acknowledgement and the ETA has passed."""
    eta = _eta(data)
    return status in AWAITING_ACK and eta is not None and eta <= now


def filter_prenotifications(
    records: Iterable[Mapping[str, Any]],
    *,
    status: Iterable[str] | None = None,
    eta_from: datetime | None = None,
    eta_to: datetime | None = None,
    country: str | None = None,
    overdue: bool | None = None,
    now: datetime | None = None,
) -> list[Mapping[str, Any]]:
    """Filter decrypted records ``{"meta": {"status", ...}, "data": {...}}`` on their fields.

    ETA and countries are encrypted, so these filters run on the client after decryption;
    `country` matches the sender, destination or a transit country.
    """
    wanted = set(status) if status is not None else None
    moment = now or datetime.now(UTC)
    out = []
    for record in records:
        meta, data = record.get("meta", {}), record.get("data", {})
        eta = _eta(data)
        countries = {
            data.get("sender_country"),
            data.get("destination_country"),
            *data.get("transit_countries", []),
        }
        if wanted is not None and meta.get("status") not in wanted:
            continue
        if eta_from is not None and (eta is None or eta < eta_from):
            continue
        if eta_to is not None and (eta is None or eta > eta_to):
            continue
        if country is not None and country.upper() not in countries:
            continue
        if overdue is not None and is_overdue(str(meta.get("status")), data, moment) != overdue:
            continue
        out.append(record)
    return out


def discrepancy_to_case(
    prenotification: Mapping[str, Any],
    *,
    reporting_country: str,
    kind: str,
    seizure_date: date | None = None,
    place_type: str = "airport",
    lots: Iterable[str] | None = None,
    remarks: str | None = None,
) -> dict[str, Any]:
    """A seizure case pre-filled from a pre-notification in discrepancy (full form data).

    Route, transport, product and lots carry over; the markings keep the pre-notification's
    handling code. The result still needs the fields only the seizing officer knows (the
    detection method and outcome), so validate it against the template before sending.
    """
    if kind not in DISCREPANCY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(DISCREPANCY_KINDS)}")
    product = prenotification.get("product", {})
    transport = prenotification.get("transport", {})
    chosen = set(lots) if lots is not None else None
    items = [
        {
            "category": "vaccines",
            "description": f"{product.get('trade_name', '')} ({product.get('vaccine_type', '')})"
            f" – discrepancy: {kind.replace('_', ' ')}",
            "hs_code": product.get("hs_code", "3002.41"),
            "brand": product.get("trade_name"),
            "inn": product.get("vaccine_type"),
            "quantity": lot["quantity"],
            "unit": "DOS",
            "batch": lot["lot_number"],
            "expiry_date": lot["expiry_date"],
        }
        for lot in prenotification.get("lots", [])
        if chosen is None or lot.get("lot_number") in chosen
    ]
    document = transport.get("awb_master") or transport.get("bill_of_lading")
    report_transport = {
        "mode": transport.get("mode"),
        "flight_voyage": transport.get("flight_voyage"),
        "document_type": "AWB"
        if transport.get("awb_master")
        else ("BL" if transport.get("bill_of_lading") else None),
        "document_number": document,
    }
    case = {
        "operation": prenotification.get("operation"),
        "reporting_country": reporting_country,
        "handling_code": prenotification.get("handling_code", "H2"),
        "source_reliability": prenotification.get("source_reliability", "A"),
        "information_accuracy": prenotification.get("information_accuracy", 1),
        "reports": [
            {
                "seizure_date": (seizure_date or datetime.now(UTC).date()).isoformat(),
                "place_type": place_type,
                "direction": "import",
                "departure_country": prenotification.get("sender_country"),
                "transit_countries": list(prenotification.get("transit_countries", [])),
                "destination_country": prenotification.get("destination_country"),
                "transport": _compact(report_transport),
                "ipr": {"infringement": "substandard_falsified"}
                if kind == "suspected_falsification"
                else None,
                "items": [_compact(i) for i in items],
            }
        ],
        "remarks": remarks
        or f"Opened from pre-notification "
        f"{prenotification.get('notification_id', '')} after a {kind.replace('_', ' ')} "
        "discrepancy.",
    }
    case["reports"] = [_compact(r) for r in case["reports"]]
    return _compact(case)


def _compact(value: dict[str, Any]) -> dict[str, Any]:
    """Drop absent (None / empty) fields so the schema sees only what is known."""
    return {k: v for k, v in value.items() if v is not None and v != [] and v != {}}
