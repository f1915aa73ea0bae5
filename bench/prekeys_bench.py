"""A targeted send to 200 devices with one-time prekeys, and broadcast seal/open by size,
each beside the cost of the primitives it cannot avoid.

Run: python bench/prekeys_bench.py [--quick] [--claim]  (--claim: the server's claim of 200
keys on SQLite and PostgreSQL instead of the client-side tables)
Results and their reading: docs/benchmarks-crypto.md ("Protocol v2: one-time prekeys").
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "clients" / "python"))
sys.path.insert(0, str(ROOT / "bench"))

import _harness as h  # noqa: E402
import cryptography  # noqa: E402
from cordon_client.crypto import (  # noqa: E402
    ContentType,
    GroupSession,
    LogWriter,
    make_prekey,
    new_signing_key,
    public_bytes,
    verify_log,
)
from cordon_client.crypto.envelope import SUITE, pad  # noqa: E402
from cordon_client.crypto.prekeys import (  # noqa: E402
    ClaimLedger,
    make_one_time_prekey,
    parse_claim,
    select_recipients,
    verify_one_time_prekey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

T0 = 1_700_000_000_000
TARGETS = 200
NONCE = bytes(12)
SIZES = (256, 4 * 1024, 64 * 1024, 256 * 1024 - 4)


def measure(fn: Callable[[], object], iterations: int) -> list[float]:
    """CPU time of this thread per call, in microseconds: the machine is shared (2 cores,
    load often above 5), and wall time would measure the other jobs' share of the cores."""
    out = []
    for _ in range(iterations):
        start = time.thread_time_ns()
        fn()
        out.append((time.thread_time_ns() - start) / 1000)
    return out


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def row(name: str, samples: list[float], ceiling: str = "") -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"| {name} | {p50(ordered):,.1f} | {p99:,.1f} | {ceiling} |")


class Group:
    """A verified roster of `n` devices with signed prekeys and one-time prekeys."""

    def __init__(self, n: int) -> None:
        gid, root = uuid.uuid4(), new_signing_key()
        writer = LogWriter(gid)
        writer.genesis(root, T0)
        self.devices: list[tuple[uuid.UUID, object]] = []
        for _ in range(n):
            member_key, device_key = new_signing_key(), new_signing_key()
            mid, did = uuid.uuid4(), uuid.uuid4()
            writer.add_member(root, mid, public_bytes(member_key), "member", T0)
            writer.add_device(member_key, mid, did, public_bytes(device_key), T0)
            self.devices.append((did, device_key))
        roster = verify_log(public_bytes(root), gid, writer.entries)
        self.signed = {}
        self.one_time = {}
        self.sessions = []
        for did, key in self.devices:
            priv, signed = make_prekey(key, did, 1, T0)  # type: ignore[arg-type]
            self.signed[did] = signed
            self.one_time[did] = make_one_time_prekey(key, did, 1)  # type: ignore[arg-type]
            if len(self.sessions) < 2:
                self.sessions.append(
                    GroupSession(roster=roster, device_id=did, signing_key=key, prekeys={1: priv})  # type: ignore[arg-type]
                )
        self.sender, self.receiver = self.sessions
        self.targets = [d for d, _ in self.devices if d != self.sender.device_id]

    def claim_answer(self) -> list[dict[str, object]]:
        """The claim route's JSON answer for every target, as the server sends it."""
        return json.loads(
            json.dumps(
                [
                    {"device_id": str(d), "one_time_prekey": self.one_time[d][1].to_json()}
                    for d in self.targets
                ]
            )
        )


def bench_targeted(iterations: int) -> None:
    """Choose prekeys for, and seal to, 200 devices holding one-time prekeys."""
    group = Group(TARGETS + 1)
    sender, targets = group.sender, group.targets
    answer = group.claim_answer()

    def choose() -> list:
        claimed = parse_claim(answer, targets)
        return select_recipients(
            sender.roster,
            targets,
            signed=group.signed,
            claimed=claimed,
            now_ms=T0 + 1,
            ledger=ClaimLedger(),
        ).recipients

    recipients = choose()
    assert all(r.prekey_type == 2 for r in recipients)

    def send() -> bytes:
        return sender.encrypt_targeted(
            ContentType.PRENOTIFICATION, b"x" * 200, choose(), now_ms=T0 + 2
        )

    key = X25519PrivateKey.generate().public_key()
    target = targets[0]
    otpk = group.one_time[target][1]
    device_pub = public_bytes(dict(group.devices)[target])  # type: ignore[arg-type]
    hpke_samples = measure(lambda: SUITE.encrypt(b"k" * 32, key, info=b"i" * 80), iterations * 10)
    verify_samples = measure(
        lambda: verify_one_time_prekey(otpk, target, device_pub), iterations * 10
    )
    hpke, verify = p50(hpke_samples), p50(verify_samples)
    print(f"\nTargeted send to {TARGETS} devices, each with a claimed one-time prekey\n")
    print("| operation | p50 µs | p99 µs | primitives' own cost (p50, this run) |")
    print("|---|---:|---:|---|")
    row("ceiling: HPKE seal 32 B", hpke_samples)
    row("ceiling: one-time prekey verify (Ed25519 verify)", verify_samples)
    row(
        f"parse claim + verify + choose, {TARGETS} devices",
        measure(choose, iterations),
        f"{TARGETS} × verify = {TARGETS * verify / 1000:.1f} ms",
    )
    row(
        f"seal to {TARGETS} chosen prekeys",
        measure(
            lambda: sender.encrypt_targeted(
                ContentType.PRENOTIFICATION, b"x" * 200, recipients, now_ms=T0 + 2
            ),
            iterations,
        ),
        f"{TARGETS} × HPKE seal = {TARGETS * hpke / 1000:.1f} ms",
    )
    row(
        f"targeted send to {TARGETS} devices (choose + seal)",
        measure(send, iterations),
        f"{TARGETS * (hpke + verify) / 1000:.1f} ms",
    )


def bench_broadcast(iterations: int) -> None:
    """Broadcast seal and open at sizes up to 256 KiB, beside AES-GCM and SHA-256 of the
    same padded body (what the envelope cannot avoid)."""
    group = Group(3)
    sender, receiver = group.sender, group.receiver
    recipients = select_recipients(
        sender.roster,
        [receiver.device_id],
        signed=group.signed,
        claimed={},
        now_ms=T0 + 1,
        ledger=ClaimLedger(),
    ).recipients
    receiver.decrypt(sender.rotate_sender_chain(recipients, now_ms=T0 + 1))
    print("\nBroadcast seal and open by size (µs per message)\n")
    print(
        "| size | seal p50 | open p50 | AES-GCM seal/open | SHA-256 of body | seal − AEAD "
        "| open − AEAD |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in SIZES:
        content = os.urandom(size)
        padded = pad(content)
        aead = AESGCM(os.urandom(32))
        sealed = aead.encrypt(NONCE, padded, b"h" * 96)
        n = max(50, iterations // (1 + size // 16384))
        aead_seal = p50(measure(lambda a=aead, b=padded: a.encrypt(NONCE, b, b"h" * 96), n))
        aead_open = p50(measure(lambda a=aead, c=sealed: a.decrypt(NONCE, c, b"h" * 96), n))
        sha = p50(measure(lambda c=sealed: hashlib.sha256(c).digest(), n))
        envelopes = iter(
            [
                sender.encrypt_broadcast(ContentType.MESSAGE, content, now_ms=T0 + 2)
                for _ in range(n)
            ]
        )
        seal = p50(
            measure(
                lambda c=content: sender.encrypt_broadcast(ContentType.MESSAGE, c, now_ms=T0 + 2),
                n,
            )
        )
        opened = p50(measure(lambda e=envelopes: receiver.decrypt(next(e)), n))
        print(
            f"| {size:,} B | {seal:,.1f} | {opened:,.1f} | {aead_seal:,.1f} / {aead_open:,.1f} "
            f"| {sha:,.1f} | {seal - aead_seal:,.1f} | {opened - aead_open:,.1f} |"
        )


async def _claims(url: str, rounds: int) -> tuple[list[float], list[float]]:
    """Seed 200 readers with `rounds` keys each, then time `rounds` claims of all 200."""
    import asyncio

    from app.core.db import create_engine, create_sessionmaker
    from app.keys import prekeys as server_prekeys
    from app.keys.models import OneTimePrekey

    seeded = await asyncio.to_thread(h.seed, url, senders=1, readers=TARGETS)
    devices = [uuid.UUID(d.device_id) for d in seeded.readers]
    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    async with maker() as session:
        session.add_all(
            OneTimePrekey(device_id=d, prekey_id=i, public_key=os.urandom(32), sig=os.urandom(64))
            for d in devices
            for i in range(1, rounds + 1)
        )
        await session.commit()
    wall, cpu = [], []
    for _ in range(rounds):
        async with maker() as session:
            start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
            got = await server_prekeys.claim(
                session, group_id=uuid.UUID(seeded.group_id), device_ids=devices
            )
            cpu.append((time.process_time_ns() - start_cpu) / 1000)
            wall.append((time.perf_counter_ns() - start) / 1000)
        assert all(p is not None for _, p in got)
    await engine.dispose()
    return wall, cpu


def bench_claim(rounds: int) -> None:
    """The server's claim of one key for each of 200 devices, in-process, both databases."""
    import asyncio

    print(f"\nServer: one claim for {TARGETS} devices (service call, no HTTP)\n")
    print("| database | wall p50 µs | wall p99 µs | CPU p50 µs (this process) |")
    print("|---|---:|---:|---:|")
    for backend in ("sqlite", "postgresql"):
        with h.scratch_database(backend) as url:
            wall, cpu = asyncio.run(_claims(url, rounds))
        ordered = sorted(wall)
        print(
            f"| {backend} | {p50(wall):,.0f} | {ordered[int(len(ordered) * 0.99)]:,.0f} "
            f"| {p50(cpu):,.0f} |"
        )


def main() -> None:
    """Print the tables with the machine they ran on."""
    quick = "--quick" in sys.argv
    iterations = 20 if quick else 100
    print(
        f"Python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} before"
    )
    if "--claim" in sys.argv:
        bench_claim(10 if quick else 30)
    else:
        bench_targeted(iterations)
        bench_broadcast(iterations * 20)
    print(f"\nload {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
