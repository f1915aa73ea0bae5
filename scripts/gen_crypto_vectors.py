"""Regenerate the known-answer vectors in tests/crypto/vectors/ (deterministic: seeds -> keys).

Run from the repository root: python scripts/gen_crypto_vectors.py
HPKE is randomised, so the targeted-envelope vector is decrypt-side: fixed private keys and a
fixed ciphertext (made once, re-used if present) with the expected plaintext.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

from cordon_client.crypto import (
    ContentType,
    LogWriter,
    Recipient,
    SenderChain,
    create_manifest,
    encrypt_document,
    fingerprint,
    public_bytes,
    qr_payload,
    seal_broadcast,
    seal_targeted,
    signing_key_from_seed,
    verify_log,
)
from cordon_client.crypto.ratchet import chain_step, message_key
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

OUT = Path(__file__).resolve().parent.parent / "tests" / "crypto" / "vectors"
T = 1_700_000_000_000
GROUP = uuid.UUID("00000000-0000-4000-8000-00000000c0de")


def seed(name: str) -> bytes:
    """Derive a 32-byte seed from a name so every key in the vectors is reproducible."""
    return hashlib.sha256(b"cordon-vector-seed:" + name.encode()).digest()


def uid(n: int) -> uuid.UUID:
    """Readable fixed UUIDs."""
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


def log_vector() -> dict[str, object]:
    """A log with every op, its roster digest, epoch id and fingerprint."""
    root = signing_key_from_seed(seed("root"))
    alice, bob = signing_key_from_seed(seed("alice")), signing_key_from_seed(seed("bob"))
    alice_dev = signing_key_from_seed(seed("alice-dev"))
    bob_dev = signing_key_from_seed(seed("bob-dev"))
    bob2 = signing_key_from_seed(seed("bob-dev-2"))
    w = LogWriter(GROUP)
    w.genesis(root, T)
    w.add_member(root, uid(1), public_bytes(alice), "coordinator", T + 1)
    w.add_device(alice, uid(1), uid(11), public_bytes(alice_dev), T + 2)
    w.add_member(alice, uid(2), public_bytes(bob), "member", T + 3)
    w.add_device(bob, uid(2), uid(21), public_bytes(bob_dev), T + 4)
    w.add_device(bob, uid(2), uid(22), public_bytes(bob2), T + 5)
    w.revoke_device(alice, uid(2), uid(22), T + 6)
    w.grant_history(alice, uid(2), T + 7)
    w.set_role(root, uid(2), "member", T + 8)
    roster = verify_log(public_bytes(root), GROUP, w.entries)
    w.checkpoint(root, roster.digest(), T + 9)
    roster = verify_log(public_bytes(root), GROUP, w.entries)
    return {
        "root_seed": seed("root").hex(),
        "group_id": str(GROUP),
        "entries": [e.to_json() for e in w.entries],
        "entry_hashes": [e.entry_hash().hex() for e in w.entries],
        "epoch_id": roster.epoch_id.hex(),
        "roster_digest": roster.digest().hex(),
        "fingerprint": fingerprint(GROUP, public_bytes(root)),
        "qr_payload": qr_payload(GROUP, public_bytes(root)),
    }


def ratchet_vector() -> dict[str, object]:
    """The first five message keys of a chain from a fixed CK_0."""
    ck, chain_id, steps = seed("ck0"), uid(99), []
    for i in range(5):
        mk, nxt = chain_step(ck)
        key, nonce = message_key(mk, chain_id, i)
        steps.append(
            {"index": i, "ck": ck.hex(), "mk": mk.hex(), "key": key.hex(), "nonce": nonce.hex()}
        )
        ck = nxt
    return {"chain_id": str(chain_id), "steps": steps}


def envelope_vector(epoch_id: bytes, previous: dict[str, object] | None) -> dict[str, object]:
    """A deterministic broadcast and a decrypt-side targeted envelope from Alice's device."""
    dev = signing_key_from_seed(seed("alice-dev"))
    chain = SenderChain(uid(99), uid(11), 3, seed("ck0"), T, 9)
    broadcast = seal_broadcast(
        signing_key=dev,
        sender_device_id=uid(11),
        group_id=GROUP,
        epoch_id=epoch_id,
        content_type=ContentType.ALERT,
        content=b"seizure: 40 kg at gate 4",
        chain=chain,
        ts=T + 100,
        message_id=uid(500),
    )
    prekey = X25519PrivateKey.from_private_bytes(seed("bob-prekey-1"))
    plaintext = b"pre-notification: vaccines, flight LX 1234"
    targeted_hex = None
    if previous and previous.get("epoch_id") == epoch_id.hex():
        targeted_hex = previous["targeted"]["envelope"]  # type: ignore[index]
    if targeted_hex is None:
        targeted_hex = seal_targeted(
            signing_key=dev,
            sender_device_id=uid(11),
            group_id=GROUP,
            epoch_id=epoch_id,
            content_type=ContentType.PRENOTIFICATION,
            content=plaintext,
            recipients=[Recipient(uid(21), 1, prekey.public_key())],
            ts=T + 200,
            message_id=uid(501),
        ).hex()
    return {
        "epoch_id": epoch_id.hex(),
        "sender_device_seed": seed("alice-dev").hex(),
        "broadcast": {
            "chain_id": str(uid(99)),
            "chain_key_at_index_3": seed("ck0").hex(),
            "index": 3,
            "plaintext": b"seizure: 40 kg at gate 4".hex(),
            "envelope": broadcast.hex(),
        },
        "targeted": {
            "recipient_device_id": str(uid(21)),
            "prekey_id": 1,
            "prekey_private": seed("bob-prekey-1").hex(),
            "plaintext": plaintext.hex(),
            "envelope": targeted_hex,
        },
    }


def stream_vector() -> dict[str, object]:
    """A two-segment document and its manifest."""
    key = seed("doc-key")
    manifest = create_manifest(
        doc_key=key,
        signing_key=signing_key_from_seed(seed("alice-dev")),
        group_id=GROUP,
        document_id=uid(700),
        version=1,
        uploader_device_id=uid(11),
        ts=T + 300,
        name="bill-of-lading.pdf",
        media_type="application/pdf",
        nonce_prefix=bytes.fromhex("00112233445566"),
    )
    data = bytes(i % 251 for i in range(64 * 1024 + 100))
    ct = encrypt_document(key, manifest, data)
    return {
        "doc_key": key.hex(),
        "manifest": manifest.to_bytes().hex(),
        "manifest_hash": manifest.manifest_hash().hex(),
        "plaintext_sha256": hashlib.sha256(data).hexdigest(),
        "plaintext_rule": "bytes(i % 251 for i in range(65636))",
        "ciphertext_sha256": hashlib.sha256(ct).hexdigest(),
        "ciphertext_tail": ct[-200:].hex(),
    }


def write(name: str, obj: dict[str, object]) -> None:
    """Write one vector file with stable formatting."""
    (OUT / name).write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")


def main() -> None:
    """Regenerate every vector file."""
    OUT.mkdir(parents=True, exist_ok=True)
    log = log_vector()
    write("log.json", log)
    write("ratchet.json", ratchet_vector())
    env_path = OUT / "envelope.json"
    previous = json.loads(env_path.read_text()) if env_path.exists() else None
    write("envelope.json", envelope_vector(bytes.fromhex(str(log["epoch_id"])), previous))
    write("stream.json", stream_vector())


if __name__ == "__main__":
    main()
