"""Known-answer vectors for the v2 wire formats owned by trust-envelope (PROTOCOL.md §2, §5,
§6.3, §7.2): canonical JSON, labels, padding, an envelope per content type with every HPKE
intermediate value of its wraps, signed receipts, routing-copy checks, and negative vectors
(tampered input with the exact expected error).

Deterministic: keys, content keys and HPKE ephemeral keys come from fixed seeds (the wraps are
sealed with the independent RFC 9180 reference in tests/crypto/hpke_reference.py).
Run from the repository root: python scripts/vectors_envelope.py
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from cordon_client import wire
from cordon_client.crypto import SenderChain, public_bytes, signing_key_from_seed
from cordon_client.crypto.envelope import seal_broadcast
from cordon_client.wire import Labels, MessageRef
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.crypto.hpke_reference import seal_base  # noqa: E402

OUT = ROOT / "tests" / "crypto" / "vectors" / "envelope_v2.json"
T = 1_700_000_000_000
GROUP = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
EPOCH = hashlib.sha256(b"cordon-vector-epoch").digest()
SENDER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
RECIPIENTS = [
    (uuid.UUID("00000000-0000-4000-8000-000000000015"), wire.PREKEY_SIGNED, 7),
    (uuid.UUID("00000000-0000-4000-8000-000000000016"), wire.PREKEY_ONE_TIME, 40_001),
]
TARGET = MessageRef(uuid.UUID("00000000-0000-4000-8000-00000000000c"), uuid.UUID(int=500))


def seed(name: str) -> bytes:
    """A 32-byte seed per name, so every key in the vectors is reproducible."""
    return hashlib.sha256(b"cordon-vector-seed:" + name.encode()).digest()


def labels_json(labels: Labels) -> dict[str, Any]:
    """Labels as the vector file states them."""
    return {
        "urgent": labels.urgent,
        "reply_to": [str(x) for x in labels.reply_to] if labels.reply_to else None,
        "review_of": [str(x) for x in labels.review_of] if labels.review_of else None,
        "roles": [[str(u), r] for u, r in labels.roles],
        "category": labels.category,
    }


def targeted(name: str, ctype: int, content: bytes, labels: Labels) -> dict[str, Any]:
    """A targeted envelope to both recipients, with the HPKE trace of each wrap."""
    sender = signing_key_from_seed(seed("sender-device"))
    header = wire.encode_header(
        kind=wire.TARGETED,
        content_type=ctype,
        group_id=GROUP,
        epoch_id=EPOCH,
        sender_device_id=SENDER,
        message_id=uuid.uuid5(uuid.NAMESPACE_URL, name),
        ts=T + ctype,
        recipients=[d for d, _, _ in RECIPIENTS],
        labels=labels,
    )
    content_key = seed("content-key:" + name)
    ct = AESGCM(content_key).encrypt(bytes(12), wire.pad(content), wire.content_aad(header))
    wraps, traces = [], []
    for device, prekey_type, prekey_id in RECIPIENTS:
        recipient = X25519PrivateKey.from_private_bytes(seed(f"prekey:{device}"))
        ephemeral = X25519PrivateKey.from_private_bytes(seed(f"ephemeral:{name}:{device}"))
        info = wire.wrap_info(wire.sha256(header), device, prekey_type, prekey_id)
        trace = seal_base(recipient.public_key(), ephemeral, info, content_key)
        wraps.append(wire.Wrap(prekey_type, prekey_id, trace.enc, trace.ct).to_bytes())
        traces.append(
            {
                "device_id": str(device),
                "prekey_type": prekey_type,
                "prekey_id": prekey_id,
                "prekey_private": seed(f"prekey:{device}").hex(),
                "ephemeral_private": seed(f"ephemeral:{name}:{device}").hex(),
                "info": info.hex(),
                **trace.as_hex(),
            }
        )
    keying = b"".join(wraps)
    sig = sender.sign(wire.envelope_signing_input(header, keying, ct))
    return {
        "name": name,
        "content_type": ctype,
        "kind": wire.TARGETED,
        "content": content.hex(),
        "labels": labels_json(labels),
        "content_key": content_key.hex(),
        "header": header.hex(),
        "wraps": traces,
        "envelope": wire.assemble(header, keying, ct, sig).hex(),
    }


def broadcast(name: str, ctype: int, content: bytes, labels: Labels) -> dict[str, Any]:
    """A broadcast on a fixed chain at index 3."""
    chain = SenderChain(uuid.UUID(int=99), SENDER, 3, seed("chain-key"), T, 9)
    envelope = seal_broadcast(
        signing_key=signing_key_from_seed(seed("sender-device")),
        sender_device_id=SENDER,
        group_id=GROUP,
        epoch_id=EPOCH,
        content_type=ctype,  # type: ignore[arg-type]
        content=content,
        chain=chain,
        ts=T + 100 + ctype,
        message_id=uuid.uuid5(uuid.NAMESPACE_URL, name),
        labels=labels,
    )
    return {
        "name": name,
        "content_type": ctype,
        "kind": wire.BROADCAST,
        "content": content.hex(),
        "labels": labels_json(labels),
        "chain_id": str(uuid.UUID(int=99)),
        "chain_key_at_index_3": seed("chain-key").hex(),
        "index": 3,
        "envelope": envelope.hex(),
    }


def envelopes() -> list[dict[str, Any]]:
    """One envelope per content type (and both kinds for chat content)."""
    chain = wire.enc(uuid.UUID(int=99), 3, seed("chain-key"), T)
    roles = ((uuid.UUID(int=0xD1), wire.ROLE_DESTINATION), (uuid.UUID(int=0x71), wire.ROLE_TRANSIT))
    C = wire.ContentType
    return [
        broadcast("message-broadcast", C.MESSAGE, b"a reply", Labels(reply_to=TARGET)),
        broadcast("alert-broadcast", C.ALERT, b"seizure: 40 kg at gate 4", Labels(urgent=True)),
        targeted("message-review", C.MESSAGE, b'{"verdict":"verified"}', Labels(review_of=TARGET)),
        targeted("alert-targeted", C.ALERT, b"for two devices", Labels(urgent=True)),
        targeted("prenotification", C.PRENOTIFICATION, b'{"type":"pn"}', Labels(roles=roles)),
        targeted("sender-key", C.SENDER_KEY, chain, wire.NO_LABELS),
        targeted("document-key", C.DOCUMENT_KEY, b"document key record", Labels(category="bol")),
        targeted("library-grant", C.LIBRARY_GRANT, b"document key records", wire.NO_LABELS),
        targeted("history-transfer", C.HISTORY_TRANSFER, b"history bundle", wire.NO_LABELS),
        targeted("key-request", C.KEY_REQUEST, wire.enc(uuid.UUID(int=99), 3), wire.NO_LABELS),
        targeted("history-grant", C.HISTORY_GRANT, b"history grant", wire.NO_LABELS),
    ]


def _splice_labels(envelope: bytes, raw_labels: bytes) -> bytes:
    """The envelope with another label section (for structural negatives: unsigned)."""
    n = int.from_bytes(envelope[94:96], "big")
    pos = wire.HEADER_FIXED + 16 * n
    old = int.from_bytes(envelope[pos : pos + 2], "big")
    return (
        envelope[:pos] + len(raw_labels).to_bytes(2, "big") + raw_labels + envelope[pos + 2 + old :]
    )


def _error(data: bytes) -> str:
    try:
        env = wire.parse_envelope(data)
    except wire.WireFormatError as exc:
        return str(exc)
    key = public_bytes(signing_key_from_seed(seed("sender-device")))
    return "ok" if wire.verify_ed25519(key, env.signature, env.signing_input()) else "signature"


def negative_envelopes(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tampered envelopes and the exact refusal (`signature`: parses, signature fails)."""
    by_name = {v["name"]: bytes.fromhex(v["envelope"]) for v in valid}
    alert, review = by_name["alert-targeted"], by_name["message-review"]
    sender_key, bcast = by_name["sender-key"], by_name["alert-broadcast"]
    n = 2
    wrap0 = wire.HEADER_FIXED + 16 * n + 2 + 0 + 4  # sender-key: no labels
    klen_at = wire.HEADER_FIXED + 16 * n + 2
    cases = {
        "version 1": alert[:3] + b"\x01" + alert[4:],
        "bad magic": b"CXN" + alert[3:],
        "unknown kind": alert[:4] + b"\x03" + alert[5:],
        "unknown content type": alert[:5] + b"\x0a" + alert[6:],
        "broadcast of pre-notification content": bcast[:5] + b"\x03" + bcast[6:],
        "label tag unknown": _splice_labels(alert, b"\x09\x00\x00"),
        "label tags not ascending": _splice_labels(
            alert, b"\x02\x00\x20" + bytes(32) + b"\x01\x00\x00"
        ),
        "urgent label not empty": _splice_labels(alert, b"\x01\x00\x01\x01"),
        "urgent label on sender-key content": _splice_labels(sender_key, b"\x01\x00\x00"),
        "reply and review together": _splice_labels(
            review, b"\x02\x00\x20" + bytes(32) + b"\x03\x00\x20" + bytes(32)
        ),
        "roles not ascending": _splice_labels(
            by_name["prenotification"],
            b"\x04\x00\x22" + uuid.UUID(int=2).bytes + b"\x01" + uuid.UUID(int=1).bytes + b"\x02",
        ),
        "category not printable": _splice_labels(by_name["document-key"], b"\x05\x00\x02a "),
        "wrap prekey type 3": sender_key[:wrap0] + b"\x03" + sender_key[wrap0 + 1 :],
        "keying length": sender_key[:klen_at] + b"\x00\x00\x00\xa9" + sender_key[klen_at + 4 :],
        "trailing byte": alert + b"\x00",
        "truncated": alert[:-1],
        "signature flipped": alert[:-1] + bytes([alert[-1] ^ 1]),
        "signed urgent label removed": _splice_labels(alert, b""),
        "reply target edited": review[: wire.HEADER_FIXED + 32 + 5]
        + bytes([review[wire.HEADER_FIXED + 32 + 5] ^ 1])
        + review[wire.HEADER_FIXED + 32 + 6 :],
    }
    return [{"name": k, "envelope": v.hex(), "error": _error(v)} for k, v in cases.items()]


def canonical_json_vectors() -> dict[str, Any]:
    """Positive (input text → canonical text) and negative (input → exact error)."""
    positive = [
        '{"b":1,"a":[true,false,null],"c":{"z":"","y":-9007199254740991}}',
        '{"\\u00e9":1,"e":2,"\\ud83d\\ude00":3,"\\uff5e":4}',
        '{"s":"quote\\" backslash\\\\ nl\\n tab\\t bell\\u0007 del\\u007f é 😀"}',
        "[9007199254740991, -0, 0]",
    ]
    encode_negative = [
        '{"n":9007199254740992}',
        '{"n":-9007199254740992}',
        '{"n":1.5}',
        '{"n":1e3}',
        '{"s":"\\ud800"}',
    ]
    parse_negative = [
        '{"b":1,"a":2}',
        '{"a":1, "b":2}',
        '{"a":1,"a":2}',
        '{"s":"\\u00e9"}',
        '{"n":NaN}',
    ]
    out: dict[str, Any] = {"positive": [], "encode_negative": [], "parse_negative": []}
    for text in positive:
        canon = wire.canonical_json(json.loads(text))
        out["positive"].append({"input": text, "canonical_hex": canon.hex()})
    for text in encode_negative:
        try:
            wire.canonical_json(json.loads(text))
        except wire.WireFormatError as exc:
            out["encode_negative"].append({"input": text, "error": str(exc)})
    for text in parse_negative:
        try:
            wire.parse_canonical_json(text.encode())
        except wire.WireFormatError as exc:
            out["parse_negative"].append({"input": text, "error": str(exc)})
    return out


def padding_vectors() -> dict[str, Any]:
    """Padded sizes at bucket edges, and refused paddings."""
    sizes = [0, 1, 252, 253, 508, 65_532, 65_533, 131_068, 131_069]
    bad = {
        "fill not zero": (3).to_bytes(4, "big") + b"abc" + b"\x01" + bytes(248),
        "length overruns": (300).to_bytes(4, "big") + bytes(252),
        "shorter than the prefix": b"\x00\x00",
    }
    negative = []
    for name, raw in bad.items():
        try:
            wire.unpad(raw)
        except wire.WireFormatError as exc:
            negative.append({"name": name, "padded": raw.hex(), "error": str(exc)})
    return {
        "positive": [
            {
                "content_length": n,
                "padded_size": wire.padded_size(n),
                "first_bytes": wire.pad(bytes(n))[:8].hex(),
            }
            for n in sizes
        ],
        "negative": negative,
    }


def receipt_vectors() -> dict[str, Any]:
    """A signed receipt and tampered variants."""
    device = uuid.UUID("00000000-0000-4000-8000-000000000015")
    key = signing_key_from_seed(seed(f"device-key:{device}"))
    fields: dict[str, Any] = {
        "group_id": GROUP,
        "item": TARGET,
        "device_id": device,
        "status": "read",
        "ts": T + 9,
    }
    signed = wire.receipt_signing_input(**fields)
    sig = key.sign(signed)
    tampered = {
        "status": {**fields, "status": "delivered"},
        "item": {**fields, "item": MessageRef(TARGET.sender_device_id, uuid.UUID(int=501))},
        "device": {**fields, "device_id": uuid.UUID(int=0x16)},
    }
    return {
        "device_private_seed": seed(f"device-key:{device}").hex(),
        "device_public": public_bytes(key).hex(),
        "group_id": str(GROUP),
        "item": [str(TARGET.sender_device_id), str(TARGET.message_id)],
        "device_id": str(device),
        "status": "read",
        "ts": T + 9,
        "signing_input": signed.hex(),
        "sig": sig.hex(),
        "negative": [
            {
                "changed": name,
                "signing_input": wire.receipt_signing_input(**f).hex(),
                "verifies": False,
            }
            for name, f in tampered.items()
        ],
    }


def routing_vectors(valid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Routing copies against signed headers, with the exact `routing_mismatch` answer."""
    by_name = {v["name"]: wire.parse_envelope(bytes.fromhex(v["envelope"])).header for v in valid}
    other = MessageRef(TARGET.sender_device_id, uuid.UUID(int=501))
    cases = [
        ("alert-targeted", "alert", True, None, False),
        ("alert-targeted", "chat", True, None, False),
        ("alert-targeted", "alert", False, None, False),
        ("message-review", "chat", False, TARGET, True),
        ("message-review", "chat", False, other, True),
        ("message-review", "chat", False, None, False),
        ("alert-broadcast", "alert", True, TARGET, True),
        ("key-request", "sender_key", False, None, False),
    ]
    out = []
    for name, kind, urgent, parent, has_parent in cases:
        problem = wire.routing_mismatch(
            by_name[name], kind=kind, urgent=urgent, parent=parent, has_parent=has_parent
        )
        out.append(
            {
                "envelope": name,
                "kind": kind,
                "urgent": urgent,
                "parent": [str(x) for x in parent] if parent else None,
                "has_parent": has_parent,
                "problem": problem,
            }
        )
    return out


def main() -> None:
    """Write tests/crypto/vectors/envelope_v2.json."""
    valid = envelopes()
    vectors = {
        "sender_device_seed": seed("sender-device").hex(),
        "group_id": str(GROUP),
        "epoch_id": EPOCH.hex(),
        "envelopes": valid,
        "negative_envelopes": negative_envelopes(valid),
        "canonical_json": canonical_json_vectors(),
        "padding": padding_vectors(),
        "receipt": receipt_vectors(),
        "routing": routing_vectors(valid),
    }
    OUT.write_text(json.dumps(vectors, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
