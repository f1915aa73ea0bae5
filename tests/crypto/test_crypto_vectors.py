"""Known-answer vectors (regenerate with scripts/gen_crypto_vectors.py)."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from cordon_client.crypto import (
    ContentType,
    LogEntry,
    Manifest,
    SenderChain,
    decrypt_document,
    encrypt_document,
    fingerprint,
    parse_envelope,
    public_bytes,
    seal_broadcast,
    signing_key_from_seed,
    verify_log,
)
from cordon_client.crypto.envelope import decrypt_body, open_wrap, verify_envelope
from cordon_client.crypto.ratchet import ReceiverChain, chain_step, message_key
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

VECTORS = Path(__file__).parent / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


def test_log_vector() -> None:
    """The checked-in log verifies to the recorded hashes, roster digest and fingerprint."""
    v = _load("log.json")
    root = public_bytes(signing_key_from_seed(bytes.fromhex(v["root_seed"])))
    entries = [LogEntry.from_json(e) for e in v["entries"]]
    roster = verify_log(root, uuid.UUID(v["group_id"]), entries)
    assert [e.entry_hash().hex() for e in entries] == v["entry_hashes"]
    assert roster.epoch_id.hex() == v["epoch_id"]
    assert roster.digest().hex() == v["roster_digest"]
    assert fingerprint(roster.group_id, root) == v["fingerprint"]


def test_ratchet_vector() -> None:
    """Chain keys, message keys and nonces match the recorded values."""
    v = _load("ratchet.json")
    ck = bytes.fromhex(v["steps"][0]["ck"])
    for step in v["steps"]:
        assert ck.hex() == step["ck"]
        mk, ck = chain_step(ck)
        key, nonce = message_key(mk, uuid.UUID(v["chain_id"]), step["index"])
        assert (mk.hex(), key.hex(), nonce.hex()) == (step["mk"], step["key"], step["nonce"])


def test_broadcast_envelope_vector() -> None:
    """The deterministic broadcast re-encodes byte for byte and decrypts to the plaintext."""
    v = _load("envelope.json")
    b = v["broadcast"]
    dev = signing_key_from_seed(bytes.fromhex(v["sender_device_seed"]))
    expected = bytes.fromhex(b["envelope"])
    env = parse_envelope(expected)
    chain = SenderChain(
        uuid.UUID(b["chain_id"]),
        env.header.sender_device_id,
        b["index"],
        bytes.fromhex(b["chain_key_at_index_3"]),
        0,
        0,
    )
    again = seal_broadcast(
        signing_key=dev,
        sender_device_id=env.header.sender_device_id,
        group_id=env.header.group_id,
        epoch_id=env.header.epoch_id,
        content_type=ContentType(env.header.content_type),
        content=bytes.fromhex(b["plaintext"]),
        chain=chain,
        ts=env.header.ts,
        message_id=env.header.message_id,
    )
    assert again == expected
    verify_envelope(env, public_bytes(dev))
    receiver = ReceiverChain(
        uuid.UUID(b["chain_id"]),
        env.header.sender_device_id,
        b["index"],
        bytes.fromhex(b["chain_key_at_index_3"]),
        0,
        0,
    )
    pending = receiver.derive(b["index"])
    assert decrypt_body(env, pending.key, pending.nonce).hex() == b["plaintext"]


def test_targeted_envelope_vector_decrypt_side() -> None:
    """Given the fixed prekey private key, the recorded targeted envelope opens to the plaintext."""
    v = _load("envelope.json")
    t = v["targeted"]
    env = parse_envelope(bytes.fromhex(t["envelope"]))
    sender = signing_key_from_seed(bytes.fromhex(v["sender_device_seed"]))
    verify_envelope(env, public_bytes(sender))
    prekey = X25519PrivateKey.from_private_bytes(bytes.fromhex(t["prekey_private"]))
    keys = {(1, t["prekey_id"]): prekey}
    key = open_wrap(env, uuid.UUID(t["recipient_device_id"]), lambda kt, kid: keys.get((kt, kid)))
    assert decrypt_body(env, key).hex() == t["plaintext"]


def test_stream_vector() -> None:
    """The document encrypts to the recorded ciphertext hash and decrypts back."""
    v = _load("stream.json")
    key, manifest = bytes.fromhex(v["doc_key"]), Manifest.from_bytes(bytes.fromhex(v["manifest"]))
    assert manifest.manifest_hash().hex() == v["manifest_hash"]
    data = bytes(i % 251 for i in range(64 * 1024 + 100))
    ct = encrypt_document(key, manifest, data)
    assert hashlib.sha256(ct).hexdigest() == v["ciphertext_sha256"]
    assert ct[-200:].hex() == v["ciphertext_tail"]
    assert hashlib.sha256(decrypt_document(key, manifest, ct)).hexdigest() == v["plaintext_sha256"]
