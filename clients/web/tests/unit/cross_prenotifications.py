"""The Python SDK's side of tests/unit/prenotifications.test.ts: reads a JSON list of requests
on stdin, answers each with the real `cordon_client` (content with its routing, the overdue
rule, who acts in which capacity and who a detail is sealed to, event signatures)."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from types import SimpleNamespace

from cordon_client.crypto import signing_key_from_seed
from cordon_client.prenotifications.operations import _capacities, _parties, _with_routing
from cordon_client.records.view import (
    PN,
    PN_DISCREPANCY,
    Item,
    PrenotificationView,
    content_item,
    domain_registry,
)
from cordon_client.records.workflow import is_overdue, sign_event

H = bytes.fromhex


def make(req: dict) -> dict:
    reg = domain_registry()
    if req["type"] == PN:
        content = reg.make_content(PN, "vaccine-prenotification", req["data"], version=1)
        content = _with_routing(content, req["routing"])
    else:
        content = reg.make_content(PN_DISCREPANCY, "prenotification-discrepancy", req["data"])
    return {"content": content.hex()}


def read(req: dict) -> dict:
    """Whether the SDK accepts content that arrived as a `prenotification` item."""
    item = content_item(
        group_id=uuid.uuid4(),
        seq=5,
        kind="prenotification",
        sender_user_id=uuid.uuid4(),
        sender_device_id=uuid.uuid4(),
        parent_seq=req.get("parent_seq"),
        content=H(req["content"]),
        registry=domain_registry(),
    )
    return {"valid": item.valid, "error": item.error, "type": item.type, "routing": item.routing}


def overdue(req: dict) -> dict:
    now = datetime.fromisoformat(req["now"].replace("Z", "+00:00"))
    return {"overdue": [is_overdue(c["status"], c["data"], now) for c in req["cases"]]}


def roles(req: dict) -> dict:
    """`_capacities` and `_parties` on a view whose original names this routing."""
    original = Item(
        uuid.uuid4(),
        3,
        "prenotification",
        PN,
        uuid.UUID(req["sender"]),
        None,
        None,
        True,
        routing=req["routing"],
    )
    view = PrenotificationView(original, [original])
    roster = SimpleNamespace(
        members={
            uuid.UUID(u): SimpleNamespace(member_id=uuid.UUID(u), role=r)
            for u, r in req["members"].items()
        }
    )
    record = {"recipients": [{"user_id": u} for u in req["listed"]]}
    return {
        "capacities": sorted(_capacities(view, roster, uuid.UUID(req["me"]))),  # type: ignore[arg-type]
        "parties": sorted(str(u) for u in _parties(view, roster, record)),  # type: ignore[arg-type]
    }


def sign(req: dict) -> dict:
    key = signing_key_from_seed(H(req["seed"]))
    signature = sign_event(
        key,
        group_id=uuid.UUID(req["group_id"]),
        prenotification_id=uuid.UUID(req["prenotification_id"]),
        seq=req["seq"],
        from_status=req["from"],
        to_status=req["to"],
        ts=req["ts"],
    )
    return {"sig": signature.hex()}


ACTIONS = {"make": make, "read": read, "overdue": overdue, "roles": roles, "sign": sign}

if __name__ == "__main__":
    json.dump([ACTIONS[r["action"]](r) for r in json.load(sys.stdin)], sys.stdout)
