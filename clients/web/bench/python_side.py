"""The Python SDK's figures for bench/web_crypto_bench.ts, measured in the same run on the same
machine: the same operations on the same inputs (the log and keystore files the TS side wrote).

Input: a JSON request on stdin. Output: JSON rows {name, runs, p50_us, p99_us, cpu_us}, where
cpu_us is this thread's CPU time per operation (time.thread_time_ns), wall the rest.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path

from cordon_client.crypto import (
    ContentType,
    LogEntry,
    Recipient,
    SenderChain,
    load_keystore,
    parse_envelope,
    seal_broadcast,
    seal_targeted,
    signing_key_from_seed,
    verify_log,
)
from cordon_client.crypto.envelope import SUITE, decrypt_body, open_wrap, verify_envelope
from cordon_client.crypto.keys import public_bytes
from cordon_client.crypto.ratchet import ReceiverChain
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

GROUP = uuid.UUID("00000000-0000-4000-8000-0000000000be")
SENDER = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
RECIPIENT = uuid.UUID("00000000-0000-4000-8000-0000000000b2")


def measure(name: str, runs: int, fn) -> dict:  # type: ignore[no-untyped-def]
    walls, cpus = [], []
    for i in range(runs):
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        fn(i)
        cpus.append(time.thread_time_ns() - c0)
        walls.append(time.perf_counter_ns() - w0)
    walls.sort()
    cpus.sort()
    return {
        "name": name,
        "runs": runs,
        "p50_us": walls[len(walls) // 2] / 1000,
        "p99_us": walls[min(len(walls) - 1, int(len(walls) * 0.99))] / 1000,
        "cpu_us": cpus[len(cpus) // 2] / 1000,
    }


def main(req: dict) -> list[dict]:
    rows = []
    key = signing_key_from_seed(bytes(32))
    sender_pub = public_bytes(key)
    epoch = bytes(range(32))
    prekey = X25519PrivateKey.from_private_bytes(bytes([7]) * 32)
    for size in req["sizes"]:
        n = req["runs_for"][str(size)]
        content = os.urandom(size)
        common = {
            "signing_key": key,
            "sender_device_id": SENDER,
            "group_id": GROUP,
            "epoch_id": epoch,
            "content_type": ContentType.MESSAGE,
            "content": content,
            "ts": 1_700_000_000_000,
        }
        chain = SenderChain(uuid.uuid4(), SENDER, 0, bytes(32), 0, 0)
        sealed: list[bytes] = []
        rows.append(
            measure(
                f"broadcast seal {size} B",
                n,
                lambda _i, c=common, ch=chain, out=sealed: out.append(
                    seal_broadcast(**c, chain=ch)
                ),
            )
        )
        receiver = ReceiverChain(chain.chain_id, SENDER, 0, bytes(32), 0, 0)

        def open_broadcast(i: int, r: ReceiverChain = receiver, s: list[bytes] = sealed) -> None:
            env = parse_envelope(s[i])
            verify_envelope(env, sender_pub)
            _, index = env.broadcast_position()
            pending = r.derive(index)
            decrypt_body(env, pending.key, pending.nonce)
            r.commit(pending)

        rows.append(measure(f"broadcast open {size} B", n, open_broadcast))
        recipients = [Recipient(RECIPIENT, 1, prekey.public_key())]
        targeted: list[bytes] = []
        rows.append(
            measure(
                f"targeted seal {size} B, 1 recipient",
                n,
                lambda _i, c=common, out=targeted, r=recipients: out.append(
                    seal_targeted(**c, recipients=r)
                ),
            )
        )

        def open_targeted(i: int, t: list[bytes] = targeted) -> None:
            env = parse_envelope(t[i])
            verify_envelope(env, sender_pub)
            ck = open_wrap(env, RECIPIENT, lambda _t, _i: prekey)
            decrypt_body(env, ck)

        rows.append(measure(f"targeted open {size} B, 1 recipient", n, open_targeted))
        body = os.urandom(size + 16)
        rows.append(
            measure(
                f"ceiling: AES-256-GCM {size} B",
                n,
                lambda _i, b=body: AESGCM(bytes(32)).encrypt(bytes(12), b, b""),
            )
        )
    msg = os.urandom(200)
    sig = key.sign(msg)
    pub = key.public_key()
    rows.append(measure("ceiling: Ed25519 sign", 500, lambda _i: key.sign(msg)))
    rows.append(measure("ceiling: Ed25519 verify", 500, lambda _i: pub.verify(sig, msg)))
    rows.append(
        measure(
            "ceiling: HPKE seal 32 B",
            300,
            lambda _i: SUITE.encrypt(bytes(32), prekey.public_key(), info=b"x"),
        )
    )
    for label, path in (("root checkpoints every 1,000", "log_cp"), ("no checkpoint", "log_plain")):
        raw = Path(req[path]).read_text()
        root = bytes.fromhex(req["root_key"])

        def verify(_i: int, text: str = raw, r: bytes = root) -> None:
            entries = [LogEntry.from_json(e) for e in json.loads(text)]
            verify_log(r, GROUP, entries)

        rows.append(
            measure(f"log: parse + verify 10,000 entries, {label}", req["log_runs"], verify)
        )
    rows.append(
        measure(
            "keystore open (scrypt n=2^15 + AES-GCM)",
            req["keystore_runs"],
            lambda _i: load_keystore(Path(req["keystore"]), req["passphrase"]),
        )
    )
    rows.append(
        measure(
            "ceiling: scrypt n=2^15, r=8, p=1",
            req["keystore_runs"],
            lambda _i: Scrypt(salt=bytes(16), length=32, n=1 << 15, r=8, p=1).derive(b"x"),
        )
    )
    return rows


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(json.loads(sys.stdin.read()))) + "\n")
