"""The Python SDK's side of tests/unit/cross_impl.test.ts: reads a JSON request on stdin, does
it with the real `cordon_client` (keystore, envelopes), prints a JSON answer."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from cordon_client.crypto import (
    ContentType,
    KeystoreData,
    Recipient,
    SenderChain,
    load_keystore,
    make_prekey,
    parse_envelope,
    public_bytes,
    save_keystore,
    seal_broadcast,
    seal_targeted,
    signing_key_from_seed,
)
from cordon_client.crypto.envelope import decrypt_body, open_wrap, verify_envelope
from cordon_client.crypto.ratchet import ReceiverChain
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

H = bytes.fromhex


def make_keystore(req: dict) -> dict:
    data = KeystoreData(
        uuid.UUID(req["device_id"]),
        signing_key_from_seed(H(req["device_seed"])),
        signing_key_from_seed(H(req["member_seed"])),
    )
    private, prekey = make_prekey(data.signing_key, data.device_id, 1, req["now_ms"])
    from cordon_client.crypto import PrekeySecret

    data.prekeys[1] = PrekeySecret(prekey, private)
    data.secrets["log-tail:x"] = b"tail bytes"
    data.secrets["\u00e9t\u00e9"] = b"\x00\x01"
    save_keystore(Path(req["path"]), data, req["passphrase"], n=1 << 14)
    return {
        "prekey_public": prekey.public_key.hex(),
        "prekey_private": private.private_bytes_raw().hex(),
    }


def open_keystore(req: dict) -> dict:
    data = load_keystore(Path(req["path"]), req["passphrase"])
    return {
        "device_id": str(data.device_id),
        "signing_public": public_bytes(data.signing_key).hex(),
        "member_public": public_bytes(data.member_key).hex() if data.member_key else None,
        "prekeys": {str(i): s.prekey.public_key.hex() for i, s in data.prekeys.items()},
        "secrets": {k: v.hex() for k, v in data.secrets.items()},
    }


def seal(req: dict) -> dict:
    key = signing_key_from_seed(H(req["sender_seed"]))
    common = {
        "signing_key": key,
        "sender_device_id": uuid.UUID(req["sender_device_id"]),
        "group_id": uuid.UUID(req["group_id"]),
        "epoch_id": H(req["epoch_id"]),
        "content_type": ContentType.ALERT,
        "content": H(req["content"]),
        "ts": req["ts"],
    }
    recipient_public = X25519PrivateKey.from_private_bytes(H(req["prekey_private"])).public_key()
    targeted = seal_targeted(
        **common,
        recipients=[Recipient(uuid.UUID(req["recipient_device_id"]), 5, recipient_public)],
    )
    chain = SenderChain(
        uuid.UUID(req["chain_id"]), uuid.UUID(req["sender_device_id"]), 7, H(req["chain_key"]), 0, 0
    )
    broadcast = seal_broadcast(**common, chain=chain)
    return {"targeted": targeted.hex(), "broadcast": broadcast.hex()}


def open_(req: dict) -> dict:
    sender = public_bytes(signing_key_from_seed(H(req["sender_seed"])))
    out = {}
    env = parse_envelope(H(req["targeted"]))
    verify_envelope(env, sender)
    private = X25519PrivateKey.from_private_bytes(H(req["prekey_private"]))
    ck = open_wrap(env, uuid.UUID(req["recipient_device_id"]), lambda _t, _i: private)
    out["targeted"] = decrypt_body(env, ck).hex()
    env = parse_envelope(H(req["broadcast"]))
    verify_envelope(env, sender)
    chain_id, index = env.broadcast_position()
    chain = ReceiverChain(chain_id, env.header.sender_device_id, 0, H(req["chain_key"]), 0, 0)
    pending = chain.derive(index)
    out["broadcast"] = decrypt_body(env, pending.key, pending.nonce).hex()
    out["broadcast_index"] = index
    return out


ACTIONS = {
    "make-keystore": make_keystore,
    "open-keystore": open_keystore,
    "seal": seal,
    "open": open_,
}

if __name__ == "__main__":
    request = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(ACTIONS[request["action"]](request)) + "\n")
