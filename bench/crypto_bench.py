"""Benchmark the Cordon protocol library against the raw `cryptography` primitives.

Run: python bench/crypto_bench.py [--quick]
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import cryptography
from cordon_client.crypto import (
    ContentType,
    GroupSession,
    LogWriter,
    Recipient,
    make_prekey,
    new_signing_key,
    public_bytes,
    verify_log,
)
from cordon_client.crypto.envelope import SUITE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

T0 = 1_700_000_000_000
MESSAGE = b"x" * 200


def build_group(
    n: int, sessions_needed: int = 2
) -> tuple[GroupSession, GroupSession, list[Recipient]]:
    """Create a log with n devices and return a sender, one receiver and the sender's recipients."""
    gid, root = uuid.uuid4(), new_signing_key()
    writer = LogWriter(gid)
    writer.genesis(root, T0)
    devices = []
    for _ in range(n):
        member_key, device_key = new_signing_key(), new_signing_key()
        mid, did = uuid.uuid4(), uuid.uuid4()
        writer.add_member(root, mid, public_bytes(member_key), "member", T0)
        writer.add_device(member_key, mid, did, public_bytes(device_key), T0)
        devices.append((did, device_key))
    roster = verify_log(public_bytes(root), gid, writer.entries)
    prekey_privs, recipients = {}, []
    for did, device_key in devices:
        priv, signed = make_prekey(device_key, did, 1, T0)
        prekey_privs[did] = priv
        recipients.append(Recipient(did, 1, priv.public_key()))
    sessions = [
        GroupSession(roster=roster, device_id=did, signing_key=key, prekeys={1: prekey_privs[did]})
        for did, key in devices[:sessions_needed]
    ]
    sender, receiver = sessions[0], sessions[1]
    return sender, receiver, [r for r in recipients if r.device_id != sender.device_id]


def measure(fn: Callable[[], object], iterations: int) -> list[float]:
    """Time each call in microseconds."""
    out = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def report(name: str, samples_us: list[float]) -> None:
    """Print p50, p99 and throughput for one measurement."""
    samples = sorted(samples_us)
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    rate = 1e6 / statistics.fmean(samples)
    print(f"| {name} | {p50:,.1f} | {p99:,.1f} | {rate:,.0f} |")


def bench_group(n: int, iterations: int) -> None:
    """Broadcast, targeted and rotation costs for a group of n devices."""
    sender, receiver, recipients = build_group(n)
    receiver.decrypt(sender.rotate_sender_chain(recipients, now_ms=T0 + 1))
    report(
        f"broadcast encrypt, {n} devices (µs/msg)",
        measure(
            lambda: sender.encrypt_broadcast(ContentType.MESSAGE, MESSAGE, now_ms=T0 + 2),
            iterations,
        ),
    )
    envelopes = iter(
        [
            sender.encrypt_broadcast(ContentType.MESSAGE, MESSAGE, now_ms=T0 + 2)
            for _ in range(iterations)
        ]
    )
    report(
        f"broadcast decrypt, {n} devices (µs/msg)",
        measure(lambda: receiver.decrypt(next(envelopes)), iterations),
    )
    rounds = max(5, iterations * 10 // n) if n > 10 else iterations // 4
    report(
        f"targeted encrypt to {len(recipients)} devices (µs)",
        measure(
            lambda: sender.encrypt_targeted(
                ContentType.PRENOTIFICATION, MESSAGE, recipients, now_ms=T0 + 3
            ),
            rounds,
        ),
    )
    targeted = iter(
        [
            sender.encrypt_targeted(ContentType.PRENOTIFICATION, MESSAGE, recipients, now_ms=T0 + 3)
            for _ in range(min(rounds, 50))
        ]
    )
    report(
        f"targeted decrypt by one, {n} devices (µs)",
        measure(lambda: receiver.decrypt(next(targeted)), min(rounds, 50)),
    )
    report(
        f"chain rotation to {len(recipients)} devices (µs)",
        measure(lambda: sender.rotate_sender_chain(recipients, now_ms=T0 + 4), rounds),
    )


def bench_ceiling(iterations: int) -> None:
    """The raw primitives one message costs at least."""
    sk = Ed25519PrivateKey.generate()
    pk = sk.public_key()
    sig = sk.sign(MESSAGE)
    xk = X25519PrivateKey.generate()
    xpub = xk.public_key()
    ct = SUITE.encrypt(os.urandom(32), xpub, info=b"info")
    aead, nonce, body = AESGCM(os.urandom(32)), os.urandom(12), os.urandom(256)
    report(
        "ceiling: HPKE seal 32 B",
        measure(lambda: SUITE.encrypt(b"k" * 32, xpub, info=b"info"), iterations),
    )
    report(
        "ceiling: HPKE open 32 B", measure(lambda: SUITE.decrypt(ct, xk, info=b"info"), iterations)
    )
    report("ceiling: Ed25519 sign", measure(lambda: sk.sign(MESSAGE), iterations))
    report("ceiling: Ed25519 verify", measure(lambda: pk.verify(sig, MESSAGE), iterations))
    report(
        "ceiling: AES-256-GCM 256 B", measure(lambda: aead.encrypt(nonce, body, None), iterations)
    )


def main() -> None:
    """Run everything and print a Markdown table."""
    quick = "--quick" in sys.argv
    iterations = 200 if quick else 2000
    print(
        f"Python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    print("| operation | p50 µs | p99 µs | ops/s |\n|---|---:|---:|---:|")
    bench_ceiling(iterations)
    for n in (10, 160, 1000):
        bench_group(n, iterations)


if __name__ == "__main__":
    main()
