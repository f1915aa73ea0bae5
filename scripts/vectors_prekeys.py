"""Write tests/crypto/vectors/prekeys.json: one-time prekeys, a wrap to one, skipped keys.

Run from the repository root: python scripts/vectors_prekeys.py
Deterministic (seeds -> keys; the HPKE ephemeral key is fixed through the RFC 9180 reference in
tests/crypto/hpke_reference.py), so a rerun reproduces the file byte for byte. Negative cases
carry the exact error class and message a conforming client reports.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cordon_client import wire  # noqa: E402
from cordon_client.crypto._encoding import encode, label  # noqa: E402
from cordon_client.crypto.envelope import Kind, encode_header  # noqa: E402
from cordon_client.crypto.keys import DAY_MS, public_bytes, signing_key_from_seed  # noqa: E402
from cordon_client.crypto.prekeys import (  # noqa: E402
    OneTimePrekey,
    PrekeyType,
    make_one_time_prekey,
    one_time_prekey_signing_input,
    verify_one_time_prekey,
)
from cordon_client.crypto.ratchet import ReceiverChain, chain_step  # noqa: E402
from cordon_client.exceptions import CryptoError  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402

from tests.crypto.hpke_reference import seal_base  # noqa: E402

OUT = ROOT / "tests" / "crypto" / "vectors" / "prekeys.json"
T = 1_700_000_000_000
SKIPPED_MAX_AGE_MS = 7 * DAY_MS


def seed(name: str) -> bytes:
    """A 32-byte seed from a name, so every key here is reproducible."""
    return hashlib.sha256(b"cordon-vector-seed:" + name.encode()).digest()


def uid(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


def x25519(name: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(seed(name))


def refusal(fn: Any) -> dict[str, str]:
    """Run a check that must fail; record its error class and message."""
    try:
        fn()
    except CryptoError as exc:
        return {"error": type(exc).__name__, "message": exc.reason}
    raise AssertionError("a negative vector passed its check")


def one_time_prekey_vectors() -> dict[str, object]:
    device_key = signing_key_from_seed(seed("bob-dev"))
    device_id, prekey_id = uid(21), 7
    private, prekey = make_one_time_prekey(
        device_key, device_id, prekey_id, private=x25519("bob-otpk-7")
    )
    device_pub = public_bytes(device_key)
    signing_input = one_time_prekey_signing_input(device_id, prekey_id, prekey.public_key)
    v1_label = b"CXM/1/one-time-prekey\x00" + signing_input[len(label("one-time-prekey")) :]
    negatives = {
        "prekey_id changed after signing": (
            OneTimePrekey(device_id, 8, prekey.public_key, prekey.signature),
            device_id,
        ),
        "public key swapped": (
            OneTimePrekey(
                device_id,
                prekey_id,
                x25519("mallory-otpk").public_key().public_bytes_raw(),
                prekey.signature,
            ),
            device_id,
        ),
        "served for another device": (prekey, uid(22)),
        "signed under the version-1 label": (
            OneTimePrekey(device_id, prekey_id, prekey.public_key, device_key.sign(v1_label)),
            device_id,
        ),
    }
    return {
        "device_seed": seed("bob-dev").hex(),
        "device_key": device_pub.hex(),
        "device_id": str(device_id),
        "prekey_id": prekey_id,
        "prekey_private": private.private_bytes_raw().hex(),
        "public_key": prekey.public_key.hex(),
        "signing_input": signing_input.hex(),
        "sig": prekey.signature.hex(),
        "json": prekey.to_json(),
        "negative": [
            {
                "name": name,
                "json": bad.to_json(),
                "verify_for_device": str(target),
                **refusal(
                    lambda bad=bad, target=target: verify_one_time_prekey(bad, target, device_pub)
                ),
            }
            for name, (bad, target) in negatives.items()
        ],
    }


def wrap_vector() -> dict[str, object]:
    recipient_device, prekey_id = uid(21), 7
    recipient = x25519("bob-otpk-7")
    header = bytearray(
        encode_header(
            kind=Kind.TARGETED,
            content_type=4,  # type: ignore[arg-type]
            group_id=uid(0xC0DE),
            epoch_id=hashlib.sha256(b"epoch").digest(),
            sender_device_id=uid(11),
            message_id=uid(501),
            ts=T + 200,
            recipients=[recipient_device],
        )
    )
    header_hash = hashlib.sha256(bytes(header)).digest()

    def info(prekey_type: int, pid: int, device: uuid.UUID) -> bytes:
        return label("wrap") + encode(header_hash, device, prekey_type, pid)

    content_key = seed("content-key")
    trace = seal_base(
        recipient.public_key(),
        x25519("wrap-ephemeral"),
        info(2, prekey_id, recipient_device),
        content_key,
    )
    wrap = wire.Wrap(PrekeyType.ONE_TIME, prekey_id, trace.enc, trace.ct).to_bytes()
    return {
        "recipient_device_id": str(recipient_device),
        "prekey_type": int(PrekeyType.ONE_TIME),
        "prekey_id": prekey_id,
        "recipient_private": recipient.private_bytes_raw().hex(),
        "recipient_public": recipient.public_key().public_bytes_raw().hex(),
        "ephemeral_private": seed("wrap-ephemeral").hex(),
        "header": bytes(header).hex(),
        "header_hash": header_hash.hex(),
        "info": info(2, prekey_id, recipient_device).hex(),
        "content_key": content_key.hex(),
        **{name: getattr(trace, name).hex() for name in trace.__dataclass_fields__},
        "wrap": wrap.hex(),
        "negative": [
            {
                "name": "opened as a signed prekey of the same id",
                "info": info(1, prekey_id, recipient_device).hex(),
                "error": "DecryptionError",
                "message": "message could not be decrypted",
            },
            {
                "name": "opened as another one-time prekey id",
                "info": info(2, prekey_id + 1, recipient_device).hex(),
                "error": "DecryptionError",
                "message": "message could not be decrypted",
            },
            {
                "name": "opened for another recipient device",
                "info": info(2, prekey_id, uid(22)).hex(),
                "error": "DecryptionError",
                "message": "message could not be decrypted",
            },
        ],
    }


def skipped_key_vectors() -> dict[str, object]:
    chain_id, sender, ck0 = uid(99), uid(11), seed("ck-skip")
    chain = ReceiverChain(chain_id, sender, 0, ck0, T, 3)
    for received in (2000, 2003):
        chain.commit(chain.derive(received, T))
    checks: list[dict[str, object]] = []
    for index, now in (
        (0, T),
        (1, T),
        (2, T + SKIPPED_MAX_AGE_MS),
        (2, T + SKIPPED_MAX_AGE_MS + 1),
        (2000, T),
    ):
        try:
            pending = chain.derive(index, now)
        except CryptoError as exc:
            checks.append(
                {"index": index, "now_ms": now, "error": type(exc).__name__, "message": exc.reason}
            )
        else:
            checks.append(
                {
                    "index": index,
                    "now_ms": now,
                    "key": pending.key.hex(),
                    "nonce": pending.nonce.hex(),
                }
            )
    record = ReceiverChain(chain_id, sender, 5, seed("ck-5"), T, 3)
    record.skipped = {1: (chain_step(seed("ck-1"))[0], T), 3: (chain_step(seed("ck-3"))[0], T + 5)}
    record.dropped_below = 1
    bad = ReceiverChain(chain_id, sender, 5, seed("ck-5"), T, 3)
    bad.skipped = {5: (chain_step(seed("ck-1"))[0], T)}
    return {
        "chain_id": str(chain_id),
        "sender_device_id": str(sender),
        "chain_key_0": ck0.hex(),
        "created_ts": T,
        "epoch_seq": 3,
        "received_indices": [2000, 2003],
        "received_at": T,
        "after": {
            "next_index": chain.next_index,
            "kept": len(chain.skipped),
            "lowest_kept": min(chain.skipped),
            "highest_kept": max(chain.skipped),
            "dropped_below": chain.dropped_below,
        },
        "checks": checks,
        "record": {
            "next_index": 5,
            "chain_key": seed("ck-5").hex(),
            "skipped": {str(i): [mk.hex(), ts] for i, (mk, ts) in record.skipped.items()},
            "dropped_below": 1,
            "bytes": record.to_bytes().hex(),
        },
        "record_negative": [
            {
                "name": "a skipped index not below next_index",
                "bytes": bad.to_bytes().hex(),
                "error": "MalformedError",
                "message": "skipped key record is malformed",
            }
        ],
    }


def main() -> None:
    vectors = {
        "about": "Protocol v2 one-time prekeys (PROTOCOL.md §3.2), a wrap to one (§5.3) with "
        "RFC 9180 intermediate values, and skipped-key bounds (§6.4). Hex unless noted.",
        "one_time_prekey": one_time_prekey_vectors(),
        "wrap_to_one_time_prekey": wrap_vector(),
        "skipped_keys": skipped_key_vectors(),
    }
    OUT.write_text(json.dumps(vectors, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
