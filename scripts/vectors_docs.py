"""Known-answer vectors for documents and history (PROTOCOL.md §8, §9, §12): the v2 manifest,
DOCUMENT_KEY, LIBRARY_GRANT and HISTORY_GRANT contents, signed templates and pre-notification
status events, each with negative vectors (tampered input and the exact expected error).

Deterministic (every key from a named seed; Ed25519 and the fixed-nonce AEADs are
deterministic), so a second implementation can reproduce every byte. Run from the repository
root: python scripts/vectors_docs.py  → tests/crypto/vectors/docs.json
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from cordon_client.crypto import (
    ContentType,
    LogWriter,
    SenderChain,
    public_bytes,
    seal_broadcast,
    signing_key_from_seed,
    verify_log,
)
from cordon_client.crypto._encoding import decode, encode, label
from cordon_client.crypto.history import (
    DocumentKey,
    GrantedItem,
    HistoryGrant,
    encode_document_keys,
)
from cordon_client.crypto.stream import create_manifest, encrypt_document
from cordon_client.records.workflow import event_signing_input, sign_event
from cordon_client.templates.registry import TemplateRegistry, sign_template, template_signing_input

OUT = Path(__file__).resolve().parent.parent / "tests" / "crypto" / "vectors" / "docs.json"
T = 1_700_000_000_000
GROUP = uuid.UUID("00000000-0000-4000-8000-00000000d0c5")


def seed(name: str) -> bytes:
    """A 32-byte seed from a name, so every key is reproducible."""
    return hashlib.sha256(b"cordon-docs-vector:" + name.encode()).digest()


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(int=(0x0000_0000_0000_4000_8000_0000_0000_0000 | n))


KEYS = {
    name: signing_key_from_seed(seed(name))
    for name in ("root", "coord", "coord-dev", "alice", "alice-dev", "late", "late-dev", "template")
}
COORD, COORD_DEV = uid(1), uid(11)
ALICE, ALICE_DEV = uid(2), uid(21)
LATE, LATE_DEV = uid(3), uid(31)


def log() -> LogWriter:
    """Root; a coordinator and a member, each with a device; a late joiner granted cases."""
    w = LogWriter(GROUP)
    w.genesis(KEYS["root"], T)
    for member, device, name, role in (
        (COORD, COORD_DEV, "coord", "coordinator"),
        (ALICE, ALICE_DEV, "alice", "member"),
        (LATE, LATE_DEV, "late", "member"),
    ):
        w.add_member(KEYS["root"], member, public_bytes(KEYS[name]), role, T)
        w.add_device(KEYS[name], member, device, public_bytes(KEYS[f"{name}-dev"]), T)
    w.grant_history(KEYS["root"], LATE, T + 1, "cases")
    return w


def _neg(name: str, construction: str, data: bytes, error: str, message: str, **extra: Any):
    return {
        "name": name,
        "construction": construction,
        "input": data.hex(),
        "error": error,
        "message": message,
        **extra,
    }


def manifest_vectors(epoch_id: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    doc_key = seed("doc-key")
    manifest = create_manifest(
        doc_key=doc_key,
        signing_key=KEYS["coord-dev"],
        group_id=GROUP,
        document_id=uid(700),
        version=1,
        uploader_device_id=COORD_DEV,
        ts=T + 10,
        name="weekly-newsletter-12.pdf",
        media_type="application/pdf",
        category="newsletter",
        epoch_id=epoch_id,
        nonce_prefix=bytes.fromhex("00112233445566"),
    )
    plaintext = bytes(i % 251 for i in range(64 * 1024 + 100))
    ciphertext = encrypt_document(doc_key, manifest, plaintext)
    key = DocumentKey(manifest.document_id, 1, doc_key, manifest.manifest_hash())
    positive = {
        "doc_key": doc_key.hex(),
        "uploader_device_seed": seed("coord-dev").hex(),
        "epoch_id": epoch_id.hex(),
        "nonce_prefix": manifest.nonce_prefix.hex(),
        "name": "weekly-newsletter-12.pdf",
        "media_type": "application/pdf",
        "category": "newsletter",
        "ts": T + 10,
        "signed_input": manifest.signed_bytes().hex(),
        "key_commitment": manifest.key_commitment.hex(),
        "encrypted_meta": manifest.encrypted_meta.hex(),
        "manifest": manifest.to_bytes().hex(),
        "manifest_hash": manifest.manifest_hash().hex(),
        "plaintext_rule": "bytes(i % 251 for i in range(65636))",
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "document_key_content": key.to_bytes().hex(),
    }
    fields = decode(manifest.to_bytes())
    v1 = encode(1, *fields[1:])
    unknown = encode(*fields[:4], "secret", *fields[5:])
    short = encode(*fields[:12])
    relabelled = dataclasses.replace(manifest, category="training").to_bytes()
    by_member = create_manifest(
        doc_key=doc_key,
        signing_key=KEYS["alice-dev"],
        group_id=GROUP,
        document_id=uid(700),
        version=1,
        uploader_device_id=ALICE_DEV,
        ts=T + 10,
        name="weekly-newsletter-12.pdf",
        media_type="application/pdf",
        category="newsletter",
        epoch_id=epoch_id,
        nonce_prefix=bytes.fromhex("00112233445566"),
    )
    member_key = DocumentKey(uid(700), 1, doc_key, by_member.manifest_hash())
    wrong_key = DocumentKey(uid(700), 1, seed("another key"), manifest.manifest_hash())
    conflicting = DocumentKey(uid(700), 1, seed("another key"), manifest.manifest_hash())
    doc = f"manifest of document {uid(700)} version 1"
    negatives = [
        _neg(
            "manifest v1",
            "manifest.parse",
            v1,
            "UnsupportedVersionError",
            "manifest version 1 is not supported",
        ),
        _neg(
            "unknown category",
            "manifest.parse",
            unknown,
            "MalformedError",
            "manifest category 'secret' is not a known category",
        ),
        _neg(
            "field missing",
            "manifest.parse",
            short,
            "MalformedError",
            "manifest has 12 fields, expected 13",
        ),
        _neg(
            "category relabelled after signing",
            "manifest.check",
            relabelled,
            "SignatureError",
            "manifest: signature does not verify",
            key=key.to_bytes().hex(),
            server_category="training",
        ),
        _neg(
            "uploaded by a plain member's device",
            "manifest.check",
            by_member.to_bytes(),
            "UnauthorisedKeyingError",
            f"{doc}: device {ALICE_DEV} belonged to a member, not a coordinator, at that head",
            key=member_key.to_bytes().hex(),
            server_category="newsletter",
        ),
        _neg(
            "server lists another category",
            "manifest.check",
            manifest.to_bytes(),
            "CategoryMismatchError",
            f"{doc}: the server lists category 'training', the manifest signs 'newsletter'",
            key=key.to_bytes().hex(),
            server_category="training",
        ),
        _neg(
            "key not the committed one",
            "manifest.check",
            manifest.to_bytes(),
            "DecryptionError",
            f"the key for document {uid(700)} version 1 is not the one its signed manifest "
            "commits to",
            key=wrong_key.to_bytes().hex(),
            server_category="newsletter",
        ),
        _neg(
            "document key record truncated",
            "document_key.parse",
            key.to_bytes()[:-1],
            "MalformedError",
            "document key record is malformed: input truncated",
        ),
        _neg(
            "second, different key for a held version",
            "document_key.install",
            conflicting.to_bytes(),
            "DocumentKeyConflictError",
            f"document {uid(700)} version 1 already has a different key on this device; "
            "the new one is refused",
            held=key.to_bytes().hex(),
        ),
    ]
    return positive, negatives


def history_vectors(roster_epoch: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    chain = SenderChain(uid(900), ALICE_DEV, 0, seed("alice-chain"), T, 4)
    case = seal_broadcast(
        signing_key=KEYS["alice-dev"],
        sender_device_id=ALICE_DEV,
        group_id=GROUP,
        epoch_id=roster_epoch,
        content_type=ContentType.ALERT,
        content=b'{"type":"seizure_case","note":"40 kg at gate 4"}',
        chain=chain,
        ts=T + 20,
        message_id=uid(901),
    )
    replay = SenderChain(uid(900), ALICE_DEV, 0, seed("alice-chain"), T, 4)
    _, key, nonce = replay.next_key()
    item = GrantedItem(5, ALICE_DEV, uid(901), hashlib.sha256(case).digest(), key + nonce)
    grant = HistoryGrant(LATE, "cases", (item,))
    lib = encode_document_keys(
        [DocumentKey(uid(700), 1, seed("doc-key"), seed("manifest-hash-placeholder"))]
    )
    positive = {
        "original_envelope": case.hex(),
        "original_plaintext": b'{"type":"seizure_case","note":"40 kg at gate 4"}'.hex(),
        "item": {
            "seq": 5,
            "sender_device_id": str(ALICE_DEV),
            "message_id": str(uid(901)),
            "envelope_hash": item.envelope_hash.hex(),
            "item_key": item.item_key.hex(),
        },
        "member_id": str(LATE),
        "scope": "cases",
        "history_grant_content": grant.to_bytes().hex(),
        "library_grant_content": lib.hex(),
    }
    fields = decode(grant.to_bytes())
    event_json = b'{"from":"sent","seq":1,"to":"acknowledged"}'
    event_item = GrantedItem(
        6, ALICE_DEV, uuid.UUID(int=0), hashlib.sha256(event_json).digest(), b""
    )
    event_grant = HistoryGrant(LATE, "prenotifications", (event_item,))
    positive["status_event_item"] = {
        "grant_content": event_grant.to_bytes().hex(),
        "served_event": event_json.hex(),
    }
    negatives = [
        _neg(
            "served status event swapped",
            "history_grant.event",
            event_grant.to_bytes(),
            "HistoryGrantError",
            "granted item seq 6: the served status event is not the one granted",
            envelope=event_json.replace(b"acknowledged", b"cleared").hex(),
        ),
        _neg(
            "unknown scope",
            "history_grant.parse",
            encode(*fields[:2], "chat", fields[3]),
            "MalformedError",
            "history grant scope 'chat' is not one of cases, prenotifications",
        ),
        _neg(
            "version 1",
            "history_grant.parse",
            encode(1, *fields[1:]),
            "MalformedError",
            "history grant version 1 is not supported",
        ),
        _neg(
            "one item twice",
            "history_grant.parse",
            encode(*fields[:3], encode(item.to_bytes(), item.to_bytes())),
            "MalformedError",
            "history grant names one item twice",
        ),
        _neg(
            "item key of 16 bytes",
            "history_grant.parse",
            encode(*fields[:3], encode(dataclasses.replace(item, item_key=bytes(16)).to_bytes())),
            "MalformedError",
            "history grant item key is 16 bytes, not 44, 32 or 0",
        ),
        _neg(
            "served envelope swapped",
            "history_grant.open",
            grant.to_bytes(),
            "HistoryGrantError",
            "granted item seq 5: the served envelope is not the one granted",
            envelope=(case[:-1] + bytes([case[-1] ^ 1])).hex(),
        ),
        _neg(
            "wrong item key",
            "history_grant.open",
            HistoryGrant(
                LATE, "cases", (dataclasses.replace(item, item_key=bytes(44)),)
            ).to_bytes(),
            "HistoryGrantError",
            "granted item seq 5: message could not be decrypted",
            envelope=case.hex(),
        ),
        _neg(
            "scope the log does not grant",
            "history_grant.check",
            HistoryGrant(LATE, "prenotifications", ()).to_bytes(),
            "HistoryGrantError",
            "history grant for scope 'prenotifications', which the log does not grant you",
        ),
    ]
    return positive, negatives


def template_vectors() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    registry = TemplateRegistry()
    body = dict(registry.get("seizure-case").body)
    body["version"] = 2
    document = sign_template(body, group_id=GROUP, signing_key=KEYS["coord-dev"], ts=T + 30)
    signer = public_bytes(KEYS["coord-dev"])
    body_hash = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).digest()
    signing = template_signing_input(
        group_id=GROUP,
        template_id="seizure-case",
        version=2,
        ts=T + 30,
        body_hash=body_hash,
        signer=signer,
    )
    positive = {
        "document": document,
        "body_sha256": body_hash.hex(),
        "signing_input": signing.hex(),
    }
    tampered = dict(document, ts=T + 31)
    negatives = [
        _neg(
            "ts changed after signing",
            "template.verify",
            json.dumps(tampered, sort_keys=True).encode(),
            "TemplateSignatureError",
            "signed template: signature does not verify",
        ),
        _neg(
            "signed by a member's device",
            "template.verify",
            json.dumps(
                sign_template(body, group_id=GROUP, signing_key=KEYS["alice-dev"], ts=T + 30),
                sort_keys=True,
            ).encode(),
            "TemplateSignatureError",
            "signed template: the signer is not a coordinator key",
        ),
    ]
    return positive, negatives


def event_vectors() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    detail = b"detail envelope bytes"
    args = {
        "group_id": GROUP,
        "prenotification_id": uid(800),
        "seq": 2,
        "from_status": "acknowledged",
        "to_status": "discrepancy",
        "ts": T + 40,
        "detail": detail,
    }
    sig = sign_event(KEYS["alice-dev"], **args)  # type: ignore[arg-type]
    positive = {
        "device_seed": seed("alice-dev").hex(),
        "prenotification_id": str(uid(800)),
        "seq": 2,
        "from": "acknowledged",
        "to": "discrepancy",
        "ts": T + 40,
        "detail": detail.hex(),
        "signing_input": event_signing_input(**args).hex(),  # type: ignore[arg-type]
        "sig": sig.hex(),
    }
    negatives = [
        _neg(
            "to_status changed",
            "event.verify",
            sig,
            "SignatureError",
            "status event: signature does not verify",
            to="cleared",
        ),
        _neg(
            "detail swapped",
            "event.verify",
            sig,
            "SignatureError",
            "status event: signature does not verify",
            detail="6f74686572",
        ),
    ]
    return positive, negatives


def main() -> None:
    writer = log()
    roster = verify_log(public_bytes(KEYS["root"]), GROUP, writer.entries)
    manifest, neg_manifest = manifest_vectors(roster.entries[4].entry_hash())
    history, neg_history = history_vectors(roster.entries[4].entry_hash())
    template, neg_template = template_vectors()
    event, neg_event = event_vectors()
    vectors = {
        "label_prefix": label("x")[:-2].decode(),
        "group_id": str(GROUP),
        "seeds": {name: seed(name).hex() for name in KEYS},
        "ids": {
            "coordinator": [str(COORD), str(COORD_DEV)],
            "alice": [str(ALICE), str(ALICE_DEV)],
            "late": [str(LATE), str(LATE_DEV)],
        },
        "log": [e.to_json() for e in writer.entries],
        "manifest": manifest,
        "history": history,
        "template": template,
        "prenotification_event": event,
        "negative": neg_manifest + neg_history + neg_template + neg_event,
    }
    OUT.write_text(json.dumps(vectors, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
