"""The Python SDK's side of tests/unit/prenotifications.test.ts: reads a JSON request on
stdin, answers with the real `cordon_client` (workflow table, overdue rule, event signatures,
content encoding and the receiver's checks)."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from itertools import combinations

from cordon_client.crypto import signing_key_from_seed
from cordon_client.exceptions import SignatureError
from cordon_client.prenotifications.operations import _with_routing
from cordon_client.records.view import PN, PN_DISCREPANCY, content_item, domain_registry
from cordon_client.records.workflow import (
    COORDINATOR,
    DESTINATION,
    SENDER,
    STATUSES,
    allowed_moves,
    is_overdue,
    sign_event,
    verify_event,
)

H = bytes.fromhex
CAPACITIES = (SENDER, DESTINATION, COORDINATOR)


def _event(req: dict) -> dict:
    return {
        "group_id": uuid.UUID(req["group_id"]),
        "prenotification_id": uuid.UUID(req["prenotification_id"]),
        "seq": req["seq"],
        "from_status": req["from"],
        "to_status": req["to"],
        "ts": req["ts"],
        "detail": H(req["detail"]) if req.get("detail") is not None else None,
    }


def table(_: dict) -> dict:
    held = [list(c) for n in range(4) for c in combinations(CAPACITIES, n)]
    return {"moves": {f"{s}|{'+'.join(c)}": allowed_moves(s, c) for s in STATUSES for c in held}}


def overdue(req: dict) -> dict:
    now = datetime.fromisoformat(req["now"].replace("Z", "+00:00"))
    return {"overdue": [is_overdue(c["status"], c["data"], now) for c in req["cases"]]}


def sign(req: dict) -> dict:
    key = signing_key_from_seed(H(req["seed"]))
    return {"sig": sign_event(key, **_event(req)).hex()}


def verify(req: dict) -> dict:
    try:
        verify_event(H(req["public"]), H(req["sig"]), **_event(req))
    except SignatureError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True}


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
    return {"valid": item.valid, "error": item.error, "type": item.type}


ACTIONS = {
    "table": table,
    "overdue": overdue,
    "sign": sign,
    "verify": verify,
    "make": make,
    "read": read,
}

if __name__ == "__main__":
    requests = json.load(sys.stdin)
    json.dump([ACTIONS[r["action"]](r) for r in requests], sys.stdout)
