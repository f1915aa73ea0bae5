"""The Python SDK's side of tests/unit/records.test.ts: reads a JSON list of requests on stdin,
answers each with the real `cordon_client` records layer (templates, views, workflow), and
prints the JSON list of answers (one process for the whole file: a Python start is slow)."""

from __future__ import annotations

import base64
import json
import sys
import uuid
from typing import Any

from cordon_client.messaging.incoming import incoming_from_json
from cordon_client.records.view import (
    Item,
    build_cases,
    build_prenotifications,
    decode_items,
    domain_registry,
    filter_cases,
)
from cordon_client.records.workflow import (
    STATUSES,
    allowed_moves,
    discrepancy_to_case,
    verify_event,
)
from cordon_client.templates.registry import (
    InvalidContentError,
    TemplateError,
    sign_template,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REGISTRY = domain_registry()


def errors(req: dict[str, Any]) -> Any:
    template = REGISTRY.get(req["template"], req.get("version"))
    return [str(e) for e in template.errors(req["data"], req.get("form"))]


def make_content(req: dict[str, Any]) -> Any:
    raw = REGISTRY.make_content(req["type"], req["template"], req["data"], form=req.get("form"))
    return base64.b64encode(raw).decode()


def read_content(req: dict[str, Any]) -> Any:
    try:
        return {"ok": REGISTRY.read_content(base64.b64decode(req["content"]))}
    except InvalidContentError as exc:
        return {"error": str(exc)}
    except TemplateError as exc:
        return {"error": f"template: {exc}"}


def decode(req: dict[str, Any]) -> Any:
    incoming = [incoming_from_json(raw) for raw in req["incoming"]]
    coordinators = {uuid.UUID(c) for c in req["coordinators"]}
    own = uuid.UUID(req["own"]) if req.get("own") else None
    items = decode_items(incoming, registry=REGISTRY, own_device=own, coordinators=coordinators)
    return [_strip(i.to_json()) for i in items]


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    item.pop("received_at", None)
    return item


def cases(req: dict[str, Any]) -> Any:
    views = build_cases(Item.from_json(raw) for raw in req["items"])
    filt = req.get("filter") or {}
    kept = filter_cases(
        views,
        status=filt.get("status"),
        country=filt.get("country"),
        handling_code=filt.get("handling_code"),
    )
    return {
        "cases": [
            {
                "seq": v.seq,
                "status": v.status,
                "versions": [i.seq for i in v.versions],
                "replies": [i.seq for i in v.replies],
                "reviews": [i.seq for i in v.reviews],
                "refused": [[i.seq, i.error] for i in v.refused],
                "record": v.record(),
            }
            for v in views
        ],
        "filtered": [v.seq for v in kept],
    }


def prenotifications(req: dict[str, Any]) -> Any:
    views = build_prenotifications(Item.from_json(raw) for raw in req["items"])
    return [
        {
            "seq": v.seq,
            "status": v.status,
            "id": v.id,
            "versions": [i.seq for i in v.versions],
            "discrepancies": [i.seq for i in v.discrepancies],
            "events": [i.seq for i in v.events],
            "refused": [[i.seq, i.error] for i in v.refused],
        }
        for v in views
    ]


def moves(req: dict[str, Any]) -> Any:
    caps = req["capacities"]
    return {s: {",".join(c): allowed_moves(s, c) for c in caps} for s in STATUSES}


def verify(req: dict[str, Any]) -> Any:
    try:
        verify_event(
            bytes.fromhex(req["key"]),
            bytes.fromhex(req["sig"]),
            group_id=uuid.UUID(req["group_id"]),
            prenotification_id=uuid.UUID(req["prenotification_id"]),
            seq=req["seq"],
            from_status=req["from"],
            to_status=req["to"],
            ts=req["ts"],
            detail=bytes.fromhex(req["detail"]) if req["detail"] is not None else None,
        )
    except Exception as exc:  # noqa: BLE001 - the answer is the refusal's text
        return str(exc)
    return "ok"


def sign(req: dict[str, Any]) -> Any:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(req["seed"]))
    body = REGISTRY.get(req["template"]).body
    body = {**body, "version": req["version"]}
    return sign_template(body, group_id=uuid.UUID(req["group_id"]), signing_key=key, ts=req["ts"])


def to_case(req: dict[str, Any]) -> Any:
    from datetime import date

    return discrepancy_to_case(
        req["pn"],
        reporting_country=req["reporting_country"],
        kind=req["kind"],
        seizure_date=date.fromisoformat(req["seizure_date"]),
        lots=req.get("lots"),
    )


ACTIONS = {
    "errors": errors,
    "make-content": make_content,
    "read-content": read_content,
    "decode": decode,
    "cases": cases,
    "prenotifications": prenotifications,
    "moves": moves,
    "verify-event": verify,
    "sign-template": sign,
    "to-case": to_case,
}

if __name__ == "__main__":
    requests = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps([ACTIONS[r["action"]](r) for r in requests]) + "\n")
