"""Benchmark protocol v2's membership log against its primitives (issue 11, "Speed").

(a) Verify a realistic 10,000-entry log from scratch: the JSON entries as the server serves them
    are parsed (`LogEntry.from_json`) and verified from the pinned root (`verify_log`).
(b) Join a group of 500 members through a real server on 127.0.0.1: the SDK's
    `join_group` reads the log in pages, verifies it, builds the roster, checks its own key,
    persists the head, certifies its own device (`add_device`, one POST), reads and verifies
    the log again, and saves the encrypted keystore (scrypt), exactly as `cordon group join`.

Beside each result, in the same run, the ceiling: N × Ed25519 verify and N × SHA-256 over the
log's own signed bytes. Wall time and this thread's CPU time are both printed: the machine is
shared, so wall time mostly measures the other processes; CPU time is the cost of the code.

Run: python bench/log_bench.py [--quick] [--postgres]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cryptography
from _harness import (
    Server,
    cpu_seconds,
    loadavg,
    percentile,
    raw_dsn,
    scratch_database,
    seed,
)
from cordon_client.account.state import LocalState, Profile
from cordon_client.crypto import LogEntry, LogWriter, new_signing_key, public_bytes, verify_log
from cordon_client.crypto._encoding import sha256
from cordon_client.crypto.keystore import KeystoreData
from cordon_client.crypto.roster import (
    CHECKPOINT_INTERVAL,
    _Verifier,
    checkpoint_due,
    roster_digest,
)
from cordon_client.groups.client import GroupsClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

T0 = 1_700_000_000_000
PASSPHRASE = "bench passphrase"


# --------------------------------------------------------------------------- building logs


@dataclass
class _Person:
    member_id: uuid.UUID
    key: Ed25519PrivateKey
    role: str = "member"
    devices: dict[uuid.UUID, bytes] = field(default_factory=dict)


class LogBuilder:
    """Signs entries with the SDK's `LogWriter` and checks each with the SDK's verifier, so
    the benchmarked log is one a real client accepts (checkpoints carry the true digest)."""

    def __init__(self, group_id: uuid.UUID, root: Ed25519PrivateKey) -> None:
        self.group_id, self.root = group_id, root
        self.writer = LogWriter(group_id)
        self.verifier = _Verifier(public_bytes(root), group_id)
        self.people: dict[uuid.UUID, _Person] = {}
        self.ts = T0
        self.ops: dict[str, int] = {}
        self._step(self.writer.genesis(root, self.ts))

    def _step(self, entry: LogEntry) -> None:
        self.verifier.step(entry)
        self.ops[entry.op] = self.ops.get(entry.op, 0) + 1
        self.ts += 1000

    def coordinator(self, rng: random.Random) -> Ed25519PrivateKey:
        """The root (the coordinator's device admits by invitation) or a promoted coordinator."""
        others = [p.key for p in self.people.values() if p.role == "coordinator"]
        return rng.choice(others) if others and rng.random() < 0.3 else self.root

    def add_member(self, signer: Ed25519PrivateKey, member_id: uuid.UUID | None = None) -> _Person:
        person = _Person(member_id or uuid.uuid4(), new_signing_key())
        self.people[person.member_id] = person
        self._step(
            self.writer.add_member(
                signer, person.member_id, public_bytes(person.key), "member", self.ts
            )
        )
        return person

    def add_device(self, person: _Person, device_id: uuid.UUID | None = None, key: bytes = b""):
        did, dkey = device_id or uuid.uuid4(), key or public_bytes(new_signing_key())
        person.devices[did] = dkey
        self._step(self.writer.add_device(person.key, person.member_id, did, dkey, self.ts))

    def checkpoint(self) -> None:
        digest = roster_digest(self.verifier.state.members)
        self._step(self.writer.checkpoint(self.root, digest, self.ts))

    def churn(self, rng: random.Random) -> None:
        """One realistic later change: a replaced phone, a key rotation, a role change, a
        history grant, or a member leaving and another joining."""
        person = rng.choice(list(self.people.values()))
        roll = rng.random()
        if roll < 0.55 and person.devices:
            old = rng.choice(list(person.devices))
            signer = person.key if rng.random() < 0.8 else self.coordinator(rng)
            del person.devices[old]
            self._step(self.writer.revoke_device(signer, person.member_id, old, self.ts))
            self.add_device(person)
        elif roll < 0.70:
            new = new_signing_key()
            self._step(
                self.writer.rotate_member_key(
                    person.key, person.member_id, public_bytes(new), self.ts
                )
            )
            person.key = new
        elif roll < 0.72:
            role = "member" if person.role == "coordinator" else "coordinator"
            self._step(self.writer.set_role(self.root, person.member_id, role, self.ts))
            person.role = role
        elif roll < 0.80:
            self._step(self.writer.grant_history(self.root, person.member_id, self.ts))
        elif roll < 0.95 or not person.devices:
            self.add_device(person)
        elif len(self.people) > 2:
            self._step(self.writer.remove_member(self.coordinator(rng), person.member_id, self.ts))
            del self.people[person.member_id]
            self.add_device(self.add_member(self.coordinator(rng)))


def build_big_log(
    n_entries: int, members: int, checkpoints: bool = True, seed_value: int = 11
) -> LogBuilder:
    """genesis, `members` admissions each followed by the member's device, a second device for
    half of them, then churn to `n_entries`. With `checkpoints`, a root-signed checkpoint
    wherever the root holder's client writes one (`checkpoint_due`: seq 1000, 2000, …)."""
    rng = random.Random(seed_value)
    builder = LogBuilder(uuid.uuid4(), new_signing_key())

    def next_change(change: Callable[[], object]) -> None:
        if checkpoints and checkpoint_due(public_bytes(builder.root), builder.writer.entries):
            builder.checkpoint()
        change()

    for _ in range(members):
        next_change(lambda: builder.add_device(builder.add_member(builder.coordinator(rng))))
    for person in list(builder.people.values())[: members // 2]:
        next_change(lambda person=person: builder.add_device(person))
    while len(builder.writer.entries) < n_entries:
        next_change(lambda: builder.churn(rng))
    del builder.writer.entries[n_entries:]
    return builder


# --------------------------------------------------------------------------- measuring


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float


def timed(fn: Callable[[], object]) -> Sample:
    """Wall and this thread's CPU time of one call."""
    w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
    fn()
    c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
    return Sample((w1 - w0) / 1e6, (c1 - c0) / 1e6)


def row(name: str, samples: list[Sample], per: int) -> dict[str, float]:
    """One table row: p50/p99 wall, p50/p99 CPU (ms) and throughput in entries/s (by CPU)."""
    wall = [s.wall_ms for s in samples]
    cpu = [s.cpu_ms for s in samples]
    out = {
        "wall_p50": percentile(wall, 50),
        "wall_p99": percentile(wall, 99),
        "cpu_p50": percentile(cpu, 50),
        "cpu_p99": percentile(cpu, 99),
    }
    rate = per / (out["cpu_p50"] / 1000) if out["cpu_p50"] else float("nan")
    print(
        f"| {name} | {len(samples)} | {out['wall_p50']:,.1f} | {out['wall_p99']:,.1f} | "
        f"{out['cpu_p50']:,.1f} | {out['cpu_p99']:,.1f} | {rate:,.0f} |",
        flush=True,
    )
    return out


def ceiling_rows(entries: list[LogEntry], rounds: int, tag: str) -> None:
    """N × Ed25519 verify (key objects loaded, and loaded per entry as the verifier does) and
    N × SHA-256, over this log's own signed bytes and signatures."""
    items = [(e.signer, e.sig, e.signed_bytes()) for e in entries]
    loaded = {s: Ed25519PublicKey.from_public_bytes(s) for s, _, _ in items}
    n = len(items)

    def verify_loaded() -> None:
        for signer, sig, msg in items:
            loaded[signer].verify(sig, msg)

    def verify_from_bytes() -> None:
        for signer, sig, msg in items:
            Ed25519PublicKey.from_public_bytes(signer).verify(sig, msg)

    def hashes() -> None:
        for _, sig, msg in items:
            sha256(msg, sig)

    row(f"ceiling: {n} × Ed25519 verify ({tag})", [timed(verify_loaded) for _ in range(rounds)], n)
    row(
        f"ceiling: {n} × (load key + Ed25519 verify) ({tag})",
        [timed(verify_from_bytes) for _ in range(rounds)],
        n,
    )
    row(f"ceiling: {n} × SHA-256 entry hash ({tag})", [timed(hashes) for _ in range(rounds)], n)


def bench_verify(n_entries: int, members: int, rounds: int) -> None:
    """(a): parse + verify from the JSON the server serves, with nothing cached: the log as
    clients write it (root checkpoints every 1,000 entries), then the same log without any."""
    for checkpoints in (True, False):
        bench_verify_one(n_entries, members, rounds, checkpoints)


def bench_verify_one(n_entries: int, members: int, rounds: int, checkpoints: bool) -> None:
    t0 = time.perf_counter()
    builder = build_big_log(n_entries, members, checkpoints)
    tag = f"root checkpoint every {CHECKPOINT_INTERVAL:,}" if checkpoints else "no checkpoint"
    entries = builder.writer.entries
    root, gid = public_bytes(builder.root), builder.group_id
    served = json.dumps([e.to_json() for e in entries])
    ops = ", ".join(f"{op} {count}" for op, count in sorted(builder.ops.items()))
    print(
        f"\n(a, {tag}) {len(entries)} entries ({ops}); {len(builder.people)} members and "
        f"{sum(len(p.devices) for p in builder.people.values())} devices at the head; "
        f"built and checked in {time.perf_counter() - t0:.1f} s; {loadavg()}",
        flush=True,
    )
    print(HEADER)
    parsed: list[list[LogEntry]] = []

    def parse() -> None:
        parsed.append([LogEntry.from_json(obj) for obj in json.loads(served)])

    def parse_and_verify() -> None:
        verify_log(root, gid, [LogEntry.from_json(obj) for obj in json.loads(served)])

    row("parse only: json.loads + from_json", [timed(parse) for _ in range(rounds)], len(entries))
    fresh = iter(parsed)
    row(
        "verify_log only (freshly parsed, no cached hashes)",
        [timed(lambda: verify_log(root, gid, next(fresh))) for _ in range(rounds)],
        len(entries),
    )
    row(
        f"**(a) parse + verify_log, 10,000 entries, {tag}**",
        [timed(parse_and_verify) for _ in range(rounds)],
        len(entries),
    )
    if not checkpoints:
        ceiling_rows(entries, rounds, "same log")


HEADER = (
    "| measurement | runs | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms | entries/s (CPU) |"
    "\n|---|---:|---:|---:|---:|---:|---:|"
)


# --------------------------------------------------------------------------- joining


def _save_state(
    directory: Path, server: str, token: str, user_id: uuid.UUID, device_id: uuid.UUID, keys
) -> None:
    """A logged-in device holding its member key, with the group's root pinned by the
    invitation it answered earlier (`request_join`), and no verified head yet."""
    signing_key, member_key, group_id, root = keys
    state = LocalState(directory, PASSPHRASE)
    state.profile = Profile(server, "joiner", str(user_id), str(device_id))
    state.keystore = KeystoreData(device_id, signing_key, member_key)
    state.set_secret("token", token.encode())
    state.set_secret(f"root-pin:{group_id}", root)
    state.save()


async def _delete_join_entries(url: str, group_id: str, keep: int) -> None:
    """Drop what the previous join appended (its `add_device`), so every join starts from
    the same 500-member log."""
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(raw_dsn(url)) as db:
            db.execute(
                "DELETE FROM group_log_entry WHERE group_id = ? AND seq >= ?",
                (uuid.UUID(group_id).hex, keep),
            )
        return
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(raw_dsn(url))
    try:
        await conn.execute(
            "DELETE FROM group_log_entry WHERE group_id = $1 AND seq >= $2",
            uuid.UUID(group_id),
            keep,
        )
    finally:
        await conn.close()


async def _insert_log(url: str, group_id: str, entries: list[LogEntry]) -> None:
    """Store the signed entries as the server does (verbatim JSON, hash, seq, op)."""
    from app.core.db import create_engine, create_sessionmaker
    from app.keys.models import GroupLogEntry

    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        session.add_all(
            GroupLogEntry(
                group_id=uuid.UUID(group_id),
                seq=e.seq,
                op=e.op,
                entry_hash=e.entry_hash(),
                entry_json=json.dumps(e.to_json(), sort_keys=True, separators=(",", ":")),
            )
            for e in entries
        )
        await session.commit()
    await engine.dispose()


def bench_join(members: int, rounds: int, backend: str) -> None:
    """(b): a new member's device joins a group of `members` through the real server."""

    with scratch_database(backend) as url:
        seeded = seed(url, senders=1, readers=members - 2)  # + the coordinator
        joiner = seeded.senders[0]
        user_ids = asyncio.run(_user_ids(url))
        rng = random.Random(5)
        builder = LogBuilder(uuid.UUID(seeded.group_id), new_signing_key())
        joiner_uid = user_ids[joiner.device_id]
        builder.add_device(builder.add_member(builder.root))  # the coordinator and its device
        for did, uid in user_ids.items():
            person = builder.add_member(builder.coordinator(rng), uid)
            if did != joiner.device_id:
                builder.add_device(person, uuid.UUID(did))
            if checkpoint_due(public_bytes(builder.root), builder.writer.entries):
                builder.checkpoint()
        entries = builder.writer.entries
        keep = len(entries)
        asyncio.run(_insert_log(url, seeded.group_id, entries))
        member_key = builder.people[joiner_uid].key
        server = Server(url)
        try:
            print(
                f"\n(b) join a group of {len(builder.people)} members: {keep} log entries "
                f"({', '.join(f'{k} {v}' for k, v in sorted(builder.ops.items()))}), server "
                f"on {backend} at {server.base}, pages of 1,000; {loadavg()}",
                flush=True,
            )
            print(HEADER.replace("entries/s (CPU)", "entries/s (client CPU)"))
            template = Path(tempfile.mkdtemp(prefix="cordon-logbench-"))
            _save_state(
                template / "t",
                server.base,
                joiner.token,
                joiner_uid,
                uuid.UUID(joiner.device_id),
                (joiner.signing_key, member_key, builder.group_id, public_bytes(builder.root)),
            )
            samples, server_cpu = [], []
            for i in range(rounds):
                asyncio.run(_delete_join_entries(url, seeded.group_id, keep))
                state_dir = template / f"r{i}"
                shutil.copytree(template / "t", state_dir)
                before = cpu_seconds(server.pid)
                samples.append(
                    asyncio.run(_one_join(state_dir, server.base, builder.group_id, keep))
                )
                server_cpu.append(Sample(0, (cpu_seconds(server.pid) - before) * 1000))
            row(f"**(b) join_group, {members} members (client)**", samples, keep)
            srv = sorted(s.cpu_ms for s in server_cpu)
            print(
                f"server CPU per join (3 log reads + 1 append): p50 {percentile(srv, 50):,.0f} "
                f"ms, p99 {percentile(srv, 99):,.0f} ms (clock ticks of 10 ms)"
            )
            _join_parts(template / "t", server.base, builder, rounds, keep)
            ceiling_rows(entries, rounds, f"{keep}-entry log")
            shutil.rmtree(template, ignore_errors=True)
        finally:
            server.stop()


async def _user_ids(url: str) -> dict[str, uuid.UUID]:
    """device id → user id of the seeded members, in a stable order."""
    from sqlalchemy import select

    from app.core.db import create_engine, create_sessionmaker
    from app.devices.models import Device

    engine = create_engine(url)
    async with create_sessionmaker(engine)() as session:
        rows = (await session.execute(select(Device.id, Device.user_id))).all()
    await engine.dispose()
    return {str(d): u for d, u in sorted(rows, key=lambda r: str(r[0]))}


async def _one_join(state_dir: Path, base: str, group_id: uuid.UUID, expect_head: int) -> Sample:
    """Open the device (scrypt load, untimed), then time `join_group` to its return."""
    client = GroupsClient(state_dir, PASSPHRASE, server=base)
    try:
        await client.groups()  # connection warm, as a running client's would be
        w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        await client.join_group(group_id)
        c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
        head = client.log_head(group_id)
        if head is None or head[0] != expect_head:
            raise RuntimeError(f"join persisted head {head}, expected seq {expect_head}")
        return Sample((w1 - w0) / 1e6, (c1 - c0) / 1e6)
    finally:
        await client._http.aclose()


def _join_parts(template: Path, base: str, builder: LogBuilder, rounds: int, n: int) -> None:
    """Where a join's time goes: one paged read, one verification, one keystore save."""
    gid = builder.group_id
    root = public_bytes(builder.root)

    async def read_pages() -> list[Sample]:
        client = GroupsClient(template, PASSPHRASE, server=base)
        try:
            await client.groups()
            out = []
            for _ in range(rounds):
                w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
                await client._log_entries(gid)
                c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
                out.append(Sample((w1 - w0) / 1e6, (c1 - c0) / 1e6))
            return out
        finally:
            await client._http.aclose()

    row("part: read the log in pages (HTTP + from_json)", asyncio.run(read_pages()), n)
    fresh = [
        [LogEntry.from_json(e.to_json()) for e in builder.writer.entries] for _ in range(rounds)
    ]
    it = iter(fresh)
    row(
        "part: verify_log (parsed entries)",
        [timed(lambda: verify_log(root, gid, next(it))) for _ in range(rounds)],
        n,
    )
    state = LocalState(template, PASSPHRASE)
    row(
        "part: keystore save (scrypt n=2^15 + AES-GCM)",
        [timed(state.save) for _ in range(rounds)],
        1,
    )


# --------------------------------------------------------------------------- main


def machine() -> str:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{model}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"cryptography {cryptography.__version__}; {loadavg()}"
    )


def main() -> None:
    quick = "--quick" in sys.argv
    backend = "postgresql" if "--postgres" in sys.argv else "sqlite"
    print(machine())
    print("wall = perf_counter; CPU = time.thread_time of this thread (the shared machine's")
    print("other load shows in wall time, not in CPU time). p99 of few runs is their maximum.")
    if "--join-only" not in sys.argv:
        bench_verify(10_000, 500, 3 if quick else 10)
    if "--verify-only" not in sys.argv:
        bench_join(500, 3 if quick else 10, backend)


if __name__ == "__main__":
    main()
