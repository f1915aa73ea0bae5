"""The checked-in document and history vectors (scripts/vectors_docs.py) against the code:
every recorded byte is reproduced, and every negative vector fails with its exact error."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cordon_client import exceptions
from cordon_client.crypto import LogEntry, Roster, public_bytes, signing_key_from_seed, verify_log
from cordon_client.crypto._encoding import label
from cordon_client.crypto.authority import (
    check_grant,
    check_granted_event,
    check_manifest,
    open_granted_item,
)
from cordon_client.crypto.history import (
    DocumentKey,
    HistoryGrant,
    decode_document_keys,
)
from cordon_client.crypto.stream import Manifest, create_manifest, encrypt_document
from cordon_client.records.workflow import event_signing_input, verify_event
from cordon_client.templates.registry import TemplateSignatureError, verify_signed_template

V = json.loads((Path(__file__).parent / "vectors" / "docs.json").read_text())
GROUP = uuid.UUID(V["group_id"])
ERRORS = {**vars(exceptions), "TemplateSignatureError": TemplateSignatureError}


def _key(name: str) -> Any:
    return signing_key_from_seed(bytes.fromhex(V["seeds"][name]))


def _roster() -> Roster:
    entries = [LogEntry.from_json(e) for e in V["log"]]
    return verify_log(entries[0].signer, GROUP, entries)


def test_the_vectors_use_this_implementation_s_labels() -> None:
    """Regenerate (python scripts/vectors_docs.py) when the label version changes."""
    assert V["label_prefix"] == label("x")[:-2].decode()


def test_manifest_v2_bytes() -> None:
    m = V["manifest"]
    manifest = create_manifest(
        doc_key=bytes.fromhex(m["doc_key"]),
        signing_key=signing_key_from_seed(bytes.fromhex(m["uploader_device_seed"])),
        group_id=GROUP,
        document_id=uuid.UUID(int=(0x4000_8000_0000_0000_0000 | 700)),
        version=1,
        uploader_device_id=uuid.UUID(V["ids"]["coordinator"][1]),
        ts=m["ts"],
        name=m["name"],
        media_type=m["media_type"],
        category=m["category"],
        epoch_id=bytes.fromhex(m["epoch_id"]),
        nonce_prefix=bytes.fromhex(m["nonce_prefix"]),
    )
    assert manifest.signed_bytes().hex() == m["signed_input"]
    assert manifest.key_commitment.hex() == m["key_commitment"]
    assert manifest.encrypted_meta.hex() == m["encrypted_meta"]
    assert manifest.to_bytes().hex() == m["manifest"]
    assert manifest.manifest_hash().hex() == m["manifest_hash"]
    plaintext = bytes(i % 251 for i in range(65636))
    ciphertext = encrypt_document(bytes.fromhex(m["doc_key"]), manifest, plaintext)
    assert hashlib.sha256(ciphertext).hexdigest() == m["ciphertext_sha256"]
    key = DocumentKey.from_bytes(bytes.fromhex(m["document_key_content"]))
    assert check_manifest(_roster(), manifest, key=key, category="newsletter").device_id == (
        uuid.UUID(V["ids"]["coordinator"][1])
    )


def test_history_and_library_grant_bytes() -> None:
    h = V["history"]
    grant = HistoryGrant.from_bytes(bytes.fromhex(h["history_grant_content"]))
    assert grant.to_bytes().hex() == h["history_grant_content"]
    assert (str(grant.member_id), grant.scope) == (h["member_id"], h["scope"])
    [item] = grant.items
    assert item.item_key.hex() == h["item"]["item_key"] and item.seq == h["item"]["seq"]
    roster = _roster()
    check_grant(roster, grant, uuid.UUID(h["member_id"]))
    envelope = bytes.fromhex(h["original_envelope"])
    _, sender, content = open_granted_item(roster, "cases", item, envelope)
    assert content.hex() == h["original_plaintext"]
    assert str(sender.device_id) == h["item"]["sender_device_id"]
    event = h["status_event_item"]
    event_grant = HistoryGrant.from_bytes(bytes.fromhex(event["grant_content"]))
    check_granted_event(
        "prenotifications", event_grant.items[0], bytes.fromhex(event["served_event"])
    )
    keys = decode_document_keys(bytes.fromhex(h["library_grant_content"]))
    assert [k.to_bytes() for k in keys] and keys[0].version == 1


def test_signed_template_and_prenotification_event() -> None:
    t = V["template"]
    coordinator_device = public_bytes(_key("coord-dev"))
    template = verify_signed_template(
        t["document"], group_id=GROUP, trusted_keys={coordinator_device}
    )
    assert (template.id, template.version) == ("seizure-case", 2)
    e = V["prenotification_event"]
    args = {
        "group_id": GROUP,
        "prenotification_id": uuid.UUID(e["prenotification_id"]),
        "seq": e["seq"],
        "from_status": e["from"],
        "to_status": e["to"],
        "ts": e["ts"],
        "detail": bytes.fromhex(e["detail"]),
    }
    assert event_signing_input(**args).hex() == e["signing_input"]
    verify_event(public_bytes(_key("alice-dev")), bytes.fromhex(e["sig"]), **args)


def _run(vector: dict[str, Any]) -> None:
    """Apply the construction a negative vector names to its input."""
    data = bytes.fromhex(vector["input"])
    roster = _roster()
    late = uuid.UUID(V["ids"]["late"][0])
    construction = vector["construction"]
    if construction == "manifest.parse":
        Manifest.from_bytes(data)
    elif construction == "manifest.check":
        key = DocumentKey.from_bytes(bytes.fromhex(vector["key"]))
        check_manifest(
            roster, Manifest.from_bytes(data), key=key, category=vector["server_category"]
        )
    elif construction == "document_key.parse":
        DocumentKey.from_bytes(data)
    elif construction == "document_key.install":
        from cordon_client.crypto.authority import check_new_keys

        held = DocumentKey.from_bytes(bytes.fromhex(vector["held"]))
        check_new_keys({(held.document_id, held.version): held}, [DocumentKey.from_bytes(data)])
    elif construction == "history_grant.parse":
        HistoryGrant.from_bytes(data)
    elif construction == "history_grant.check":
        check_grant(roster, HistoryGrant.from_bytes(data), late)
    elif construction == "history_grant.open":
        grant = HistoryGrant.from_bytes(data)
        open_granted_item(roster, grant.scope, grant.items[0], bytes.fromhex(vector["envelope"]))
    elif construction == "history_grant.event":
        grant = HistoryGrant.from_bytes(data)
        check_granted_event(grant.scope, grant.items[0], bytes.fromhex(vector["envelope"]))
    elif construction == "template.verify":
        verify_signed_template(
            json.loads(data), group_id=GROUP, trusted_keys={public_bytes(_key("coord-dev"))}
        )
    elif construction == "event.verify":
        e = V["prenotification_event"]
        verify_event(
            public_bytes(_key("alice-dev")),
            data,
            group_id=GROUP,
            prenotification_id=uuid.UUID(e["prenotification_id"]),
            seq=e["seq"],
            from_status=e["from"],
            to_status=vector.get("to", e["to"]),
            ts=e["ts"],
            detail=bytes.fromhex(vector.get("detail", e["detail"])),
        )
    else:
        raise AssertionError(f"unknown construction {construction}")


@pytest.mark.parametrize("vector", V["negative"], ids=[v["name"] for v in V["negative"]])
def test_negative_vector(vector: dict[str, Any]) -> None:
    """Each tampered input fails with exactly the recorded error class and message."""
    with pytest.raises(ERRORS[vector["error"]]) as caught:
        _run(vector)
    assert type(caught.value).__name__ == vector["error"]
    assert str(caught.value) == vector["message"]
