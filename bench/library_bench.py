"""Library transfer benchmark on loopback: our upload/download MB/s and peak RSS growth of the
server and the client, next to ceilings measured in the same run (file copy, AES-GCM over
1 MiB segments, raw httpx streaming to a trivial uvicorn endpoint, and each store's own
medium read and written without the server: the blob file, the same rows through asyncpg).

    python bench/library_bench.py --sizes 100 1000      # MB (10^6 bytes)
    python bench/library_bench.py --sizes 100 1000 --rounds 2 \
        --stores filesystem postgresql --pg-url postgresql+asyncpg://postgres@127.0.0.1/postgres

Starts one `cordon-server serve` per store (demo seed; SQLite, or a fresh PostgreSQL database
per store with `--pg-url`; the filesystem store in a temp dir via `CORDON_BLOB_DIR`, the
PostgreSQL store without it) as subprocesses on free 127.0.0.1 ports, and alternates the stores
transfer by transfer, so both see the same load on a shared machine.

The download row measures the server: a streamed GET whose bytes are hashed (SHA-256, checked
against the published digest) and dropped; `--client-download` adds the client's whole path
(verify + decrypt + write + fsync to a file), which on this machine is bound by the client.
Right after each download the same bytes are read from the store's medium without the server
(the blob file; the blob's rows through asyncpg, as the store queries them), so both reads see
the same cache state.

Peak RSS growth: the kernel's peak counter is reset (`/proc/<pid>/clear_refs`
= 5) right before each transfer and VmHWM − VmRSS(before) is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "clients" / "python"))

from cordon_client.crypto import LogWriter, Roster, verify_log  # noqa: E402
from cordon_client.crypto.keys import public_bytes  # noqa: E402
from cordon_client.library.client import LibraryClient  # noqa: E402

from app.demo.service import DEMO_PASSWORD, DEMO_TOTP_SEED  # noqa: E402

MB = 1_000_000
MIB = 1024 * 1024

TRIVIAL_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["method"] == "PUT":
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    size = int(scope["query_string"].decode().split("=")[1])
    chunk = b"\\0" * (1024 * 1024)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(size).encode())]})
    while size > 0:
        part = chunk[: min(size, len(chunk))]
        size -= len(part)
        await send({"type": "http.response.body", "body": part, "more_body": size > 0})
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


class PeakRss:
    """Peak RSS growth of a process over a `with` block."""

    def __init__(self, pid: int | str) -> None:
        self.pid = pid
        self.growth = 0

    def __enter__(self) -> PeakRss:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.before = _status(self.pid, "VmRSS")
        return self

    def __exit__(self, *_: object) -> None:
        self.growth = _status(self.pid, "VmHWM") - self.before


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited early")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server never became ready")


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def _write_file(path: Path, size: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(left, MIB)])
            left -= MIB


def _login(http: httpx.Client, username: str, totp: bool) -> tuple[str, str, Ed25519PrivateKey]:
    """Log in with a fresh device; its token, id and signing key (manifests are signed by it)."""
    key = Ed25519PrivateKey.generate()
    signing = key.public_key().public_bytes_raw()
    body: dict[str, object] = {
        "username": username,
        "password": DEMO_PASSWORD,
        "device": {
            "name": "bench",
            "signing_key": _b64(signing),
            "exchange_key": _b64(os.urandom(32)),
        },
    }
    if totp:
        body["totp_code"] = pyotp.TOTP(DEMO_TOTP_SEED).now()
    r = http.post("/api/v1/auth/login", json=body)
    r.raise_for_status()
    return r.json()["access_token"], r.json()["device_id"], key


def _coordinator_roster(
    group_id: uuid.UUID, device_id: uuid.UUID, key: Ed25519PrivateKey
) -> Roster:
    """A local verified log in which the publishing device belongs to the coordinator (what
    the reader's own log says in a real group); its head is the manifest's epoch."""
    root, member_key, member_id = (
        Ed25519PrivateKey.generate(),
        Ed25519PrivateKey.generate(),
        uuid.uuid4(),
    )
    now = int(time.time() * 1000)
    writer = LogWriter(group_id)
    writer.genesis(root, now)
    writer.add_member(root, member_id, public_bytes(member_key), "coordinator", now)
    writer.add_device(member_key, member_id, device_id, public_bytes(key), now)
    return verify_log(public_bytes(root), group_id, writer.entries)


def _b64(raw: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mbps(size: int, seconds: float) -> float:
    return size / MB / seconds


def ceilings(path: Path, size: int, tmp: Path) -> dict[str, float]:
    """Upper bounds on this machine: disk copy, AES-GCM, raw HTTP streaming."""
    out: dict[str, float] = {}
    t = time.perf_counter()
    shutil.copyfile(path, tmp / "copy.bin")
    out["file copy"] = _mbps(size, time.perf_counter() - t)
    (tmp / "copy.bin").unlink()
    aead = AESGCM(os.urandom(32))
    buf = os.urandom(MIB)
    n = max(1, min(size, 256 * MB) // MIB)
    t = time.perf_counter()
    for i in range(n):
        aead.encrypt(i.to_bytes(12, "big"), buf, b"aad")
    out["AES-256-GCM (1 MiB segments)"] = _mbps(n * MIB, time.perf_counter() - t)
    port = _free_port()
    (tmp / "trivial.py").write_text(TRIVIAL_APP)
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "trivial:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--http",
        "httptools",
    ]
    proc = _start(args, env, tmp / "trivial.log")
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/?size=1", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=120) as http:
            t = time.perf_counter()
            with path.open("rb") as fh:
                while chunk := fh.read(MIB):
                    http.put("/", content=chunk)
            out["raw httpx PUT of 1 MiB bodies"] = _mbps(size, time.perf_counter() - t)
            t = time.perf_counter()
            with http.stream("GET", f"/?size={size}") as r:
                for _ in r.iter_bytes(MIB):
                    pass
            out["raw httpx streamed GET"] = _mbps(size, time.perf_counter() - t)
    finally:
        proc.terminate()
        proc.wait(10)
    return out


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def _connect(database_url: str) -> Any:
    """One asyncpg connection to a SQLAlchemy-style PostgreSQL URL."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )


@contextmanager
def _database(admin_url: str | None, name: str, tmp: Path) -> Iterator[str]:
    """A fresh PostgreSQL database on `admin_url`'s server (dropped afterwards), or a SQLite
    file when no server is given."""
    if admin_url is None:
        yield f"sqlite+aiosqlite:///{tmp / (name + '.db')}"
        return
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    db = f"cordon_bench_{name}_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await _connect(admin_url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{db}"'))
    try:
        yield url.set(database=db).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


@dataclass
class Side:
    """One server process and the accounts that publish and read through it."""

    store: str
    server: subprocess.Popen[bytes]
    base: str
    coord_token: str
    coord_device: str
    coord_key: Ed25519PrivateKey
    member_token: str
    group_id: uuid.UUID
    database_url: str
    blob_dir: Path | None


@contextmanager
def _serve(
    store: str, database_url: str, tmp: Path, root: Path = ROOT, label: str = ""
) -> Iterator[Side]:
    port = _free_port()
    env = {
        **os.environ,
        "CORDON_DATABASE_URL": database_url,
        "CORDON_SEED_DEMO": "true",
        "CORDON_ENVIRONMENT": "development",
        "CORDON_LOG_LEVEL": "WARNING",
    }
    env.pop("CORDON_BLOB_DIR", None)
    blob_dir = tmp / f"blobs-{port}" if store == "filesystem" else None
    if blob_dir is not None:
        env["CORDON_BLOB_DIR"] = str(blob_dir)
    elif database_url.startswith("sqlite"):
        raise SystemExit("the postgresql store needs --pg-url")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=(tmp / f"server-{port}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server)
        with httpx.Client(base_url=base, timeout=120) as anon:
            coord_token, coord_device, coord_key = _login(anon, "ocu.coordinator", totp=True)
            member_token, _, _ = _login(anon, "be.ncp", totp=False)
            groups = anon.get(
                "/api/v1/groups", headers={"Authorization": f"Bearer {coord_token}"}
            ).json()
        yield Side(
            label or store,
            server,
            base,
            coord_token,
            coord_device,
            coord_key,
            member_token,
            uuid.UUID(groups[0]["id"]),
            database_url,
            blob_dir,
        )
    finally:
        server.terminate()
        server.wait(20)


def _cpu_seconds(pid: int | str) -> float:
    """User + system CPU of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backends(database_url: str) -> list[int]:
    """PIDs of the PostgreSQL backends connected to this side's database (none for SQLite)."""
    if database_url.startswith("sqlite"):
        return []
    from sqlalchemy.engine import make_url

    database = make_url(database_url).database

    async def pids() -> list[int]:
        conn = await _connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                database,
            )
        finally:
            await conn.close()
        return [int(r[0]) for r in rows]

    return asyncio.run(pids())


class CpuUse:
    """CPU seconds the server process and its database backends spent over a `with` block:
    unlike MB/s, this barely moves when other work shares the machine (backends opened
    during the block count from zero; PostgreSQL's WAL writer and checkpointer are left out)."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.server = 0.0
        self.database = 0.0

    def __enter__(self) -> CpuUse:
        self._server = _cpu_seconds(self.side.server.pid)
        self._backends = {pid: _cpu_seconds(pid) for pid in _backends(self.side.database_url)}
        return self

    def __exit__(self, *_: object) -> None:
        self.server = _cpu_seconds(self.side.server.pid) - self._server
        pids = set(self._backends) | set(_backends(self.side.database_url))
        self.database = sum(
            max(0.0, _cpu_seconds(pid) - self._backends.get(pid, 0.0)) for pid in pids
        )


def _row(store: str, measure: str, mbps: float, cpu: CpuUse | None, gb: float, rss: str) -> str:
    server = f"{cpu.server / gb:.1f}" if cpu else ""
    database = f"{cpu.database / gb:.1f}" if cpu else ""
    return f"| {store} | {measure} | {mbps:.0f} | {server} | {database} | {rss} |"


def _content_url(side: Side, document_id: uuid.UUID) -> str:
    return f"/api/v1/groups/{side.group_id}/library/documents/{document_id}/versions/1/content"


def _get_and_hash(http: httpx.Client, url: str, expected: bytes) -> int:
    """Stream the ciphertext, hash it, drop it: what the server can serve, without the
    client's decrypt-and-write path (whose disk writes bound both stores alike)."""
    digest = hashlib.sha256()
    got = 0
    with http.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(MIB):
            digest.update(chunk)
            got += len(chunk)
    if digest.digest() != expected:
        raise SystemExit(f"downloaded {got} bytes that do not hash to the published digest")
    return got


class _Backends:
    """CPU seconds of a few connections' backends over a block (the raw ceilings)."""

    def __init__(self, connections: list[Any]) -> None:
        self.pids = [c.get_server_pid() for c in connections]
        self.seconds = 0.0

    def __enter__(self) -> _Backends:
        self._before = [_cpu_seconds(pid) for pid in self.pids]
        return self

    def __exit__(self, *_: object) -> None:
        spent = zip(self.pids, self._before, strict=True)
        self.seconds = sum(_cpu_seconds(pid) - before for pid, before in spent)


READERS, ROWS_PER_READ = 3, 4  # as the store reads: four segments per query, three at once


async def _raw_rows_read(database_url: str, sha256_hex: str) -> tuple[float, float]:
    """Read a published blob's segment rows with asyncpg alone (no server, no HTTP): MB/s
    and the backends' CPU seconds."""
    connections = [await _connect(database_url) for _ in range(READERS)]
    try:
        owner, count = (
            await connections[0].fetchrow(
                "SELECT b.owner, count(*) FROM blob b JOIN blob_segment s ON s.owner = b.owner"
                " WHERE b.sha256 = $1 GROUP BY b.owner",
                sha256_hex,
            )
        ).values()
        batches = [
            list(range(i, min(count, i + ROWS_PER_READ))) for i in range(0, count, ROWS_PER_READ)
        ]
        got = 0

        async def reader(connection: Any) -> None:
            nonlocal got
            statement = await connection.prepare(
                "SELECT data FROM blob_segment WHERE owner = $1 AND idx = ANY($2) ORDER BY idx"
            )
            while batches:
                for row in await statement.fetch(owner, batches.pop(0)):
                    got += len(row[0])

        with _Backends(connections) as backends:
            t = time.perf_counter()
            await asyncio.gather(*(reader(c) for c in connections))
            seconds = time.perf_counter() - t
        return got / MB / seconds, backends.seconds
    finally:
        for connection in connections:
            await connection.close()


async def _raw_rows_write(database_url: str, source: Path, segment: int) -> tuple[float, float]:
    """Insert `source` as rows of `segment` bytes into a scratch copy of `blob_segment`, one
    row per statement on three connections (no server, no HTTP, no hashing): MB/s and the
    backends' CPU seconds."""
    connections = [await _connect(database_url) for _ in range(READERS)]
    table = f"bench_raw_{uuid.uuid4().hex[:8]}"
    await connections[0].execute(
        f"CREATE TABLE {table} (LIKE blob_segment INCLUDING ALL)"  # storage EXTERNAL too
    )
    owner = uuid.uuid4()
    try:
        size = source.stat().st_size
        indices = list(range(0, (size + segment - 1) // segment))
        with source.open("rb") as fh:

            async def writer(connection: Any) -> None:
                while indices:
                    idx = indices.pop(0)
                    data = os.pread(fh.fileno(), segment, idx * segment)
                    await connection.execute(
                        f"INSERT INTO {table} (owner, idx, start, data) VALUES ($1, $2, $3, $4)",
                        owner,
                        idx,
                        idx * segment,
                        data,
                    )

            with _Backends(connections) as backends:
                t = time.perf_counter()
                await asyncio.gather(*(writer(c) for c in connections))
                seconds = time.perf_counter() - t
        return size / MB / seconds, backends.seconds
    finally:
        await connections[0].execute(f"DROP TABLE {table}")
        for connection in connections:
            await connection.close()


def _raw_file_read(path: Path) -> float:
    """Read a blob file in 1 MiB chunks (no server, no HTTP): MB/s."""
    got = 0
    t = time.perf_counter()
    with path.open("rb", buffering=0) as fh:
        while chunk := fh.read(MIB):
            got += len(chunk)
    return got / MB / (time.perf_counter() - t)


def _raw_file_write(source: Path, tmp: Path) -> float:
    """Write `source` in 1 MiB chunks to a new file and fsync it, as the filesystem store
    does (no server, no HTTP, no hashing): MB/s."""
    target = tmp / "raw-write.bin"
    t = time.perf_counter()
    with source.open("rb", buffering=0) as src, target.open("wb", buffering=0) as out:
        while chunk := src.read(MIB):
            out.write(chunk)
        os.fsync(out.fileno())
    mbps = source.stat().st_size / MB / (time.perf_counter() - t)
    target.unlink()
    return mbps


def _raw_read(side: Side, sha256_hex: str, size: int) -> str:
    """The store's own medium, read right after the download (same cache state)."""
    gb = size / 1e9
    if side.blob_dir is not None:
        (path,) = side.blob_dir.rglob(sha256_hex)
        return (
            f"| {side.store} | ceiling: raw read of the blob file | "
            f"{_raw_file_read(path):.0f} | | | | |"
        )
    mbps, database = asyncio.run(_raw_rows_read(side.database_url, sha256_hex))
    return (
        f"| {side.store} | ceiling: raw read of the blob's rows (asyncpg, {ROWS_PER_READ} per "
        f"query, {READERS} connections) | {mbps:.0f} | | {database / gb:.1f} | | |"
    )


def _raw_writes(sides: list[Side], source: Path, size: int, tmp: Path) -> list[str]:
    """Each store's medium written without the server, once per size."""
    gb = size / 1e9
    rows = []
    for side in sides:
        if side.blob_dir is not None:
            mbps = _raw_file_write(source, tmp)
            rows.append(
                f"| {side.store} | ceiling: raw write of a file (1 MiB writes + fsync) | "
                f"{mbps:.0f} | | | | |"
            )
        elif side.store == "postgresql":
            mbps, database = asyncio.run(_raw_rows_write(side.database_url, source, SEGMENT_ROW))
            rows.append(
                f"| {side.store} | ceiling: raw insert of 1 MiB rows (asyncpg, one per "
                f"statement, {READERS} connections) | {mbps:.0f} | | {database / gb:.1f} | | |"
            )
    return rows


SEGMENT_ROW = MIB + 16  # a stored segment: 1 MiB of ciphertext and its tag


def _transfer(side: Side, source: Path, size: int, tmp: Path, client_download: bool) -> list[str]:
    """Publish `source` through `side`, download it again, and read the stored bytes
    without the server; table rows."""
    roster = _coordinator_roster(side.group_id, uuid.UUID(side.coord_device), side.coord_key)
    up_auth = {"Authorization": f"Bearer {side.coord_token}"}
    down_auth = {"Authorization": f"Bearer {side.member_token}"}
    gb = size / 1e9
    rows = []
    with (
        httpx.Client(base_url=side.base, timeout=300, headers=up_auth) as up_http,
        httpx.Client(base_url=side.base, timeout=300, headers=down_auth) as down_http,
    ):
        pub = LibraryClient(
            up_http,
            device_id=uuid.UUID(side.coord_device),
            signing_key=side.coord_key,
            epoch_id=roster.epoch_id,
        )
        with PeakRss(side.server.pid) as s_up, PeakRss("self") as c_up, CpuUse(side) as cpu_up:
            t = time.perf_counter()
            published = pub.publish(side.group_id, source, category="training")
            up = time.perf_counter() - t
        rows.append(
            _row(
                side.store,
                "upload (encrypt + PUT + finalise)",
                _mbps(size, up),
                cpu_up,
                gb,
                f"{s_up.growth / MIB:.1f} MiB | {c_up.growth / MIB:.1f} MiB",
            )
        )
        url = _content_url(side, published.document_id)
        with (
            PeakRss(side.server.pid) as s_down,
            PeakRss("self") as c_down,
            CpuUse(side) as cpu_down,
        ):
            t = time.perf_counter()
            _get_and_hash(down_http, url, published.sha256)
            down = time.perf_counter() - t
        rows.append(
            _row(
                side.store,
                "download (GET + SHA-256, bytes dropped)",
                _mbps(size, down),
                cpu_down,
                gb,
                f"{s_down.growth / MIB:.1f} MiB | {c_down.growth / MIB:.1f} MiB",
            )
        )
        rows.append(_raw_read(side, published.sha256.hex(), size))
        if client_download:
            dest = tmp / f"dest-{side.server.pid}.bin"
            with PeakRss(side.server.pid) as s_full, CpuUse(side) as cpu_full:
                t = time.perf_counter()
                LibraryClient(down_http).download(
                    side.group_id,
                    published.document_id,
                    1,
                    key=published.key,
                    roster=roster,
                    dest=dest,
                )
                full = time.perf_counter() - t
            if dest.stat().st_size != size:
                raise SystemExit("the client wrote a file of the wrong size")
            dest.unlink()
            rows.append(
                _row(
                    side.store,
                    "download, client path (GET + verify + decrypt + write + fsync)",
                    _mbps(size, full),
                    cpu_full,
                    gb,
                    f"{s_full.growth / MIB:.1f} MiB | ",
                )
            )
    return rows


def run(
    sizes_mb: list[int],
    stores: list[str],
    rounds: int,
    pg_url: str | None,
    with_ceilings: bool,
    baseline: Path | None = None,
    client_download: bool = False,
) -> None:
    print(f"load average before: {_load()}")
    tmp = Path(tempfile.mkdtemp(prefix="cordon-bench-"))
    try:
        with ExitStack() as stack:
            sides = [
                stack.enter_context(
                    _serve(store, stack.enter_context(_database(pg_url, store, tmp)), tmp)
                )
                for store in stores
            ]
            if baseline is not None:
                label = f"postgresql ({baseline.name})"
                database = stack.enter_context(_database(pg_url, "baseline", tmp))
                sides.append(
                    stack.enter_context(_serve("postgresql", database, tmp, baseline, label))
                )
            for size_mb in sizes_mb:
                size = size_mb * MB
                source = tmp / f"source-{size_mb}.bin"
                _write_file(source, size)
                print(f"\n## {size_mb} MB ({rounds} rounds, stores interleaved)")
                print(
                    "| store | measure | MB/s | server CPU s/GB | database CPU s/GB "
                    "| server peak RSS growth | client peak RSS growth |"
                )
                print("|---|---|---:|---:|---:|---:|---:|")
                for _ in range(rounds):
                    for side in sides:
                        for row in _transfer(side, source, size, tmp, client_download):
                            print(row, flush=True)
                    print(f"| | load average | {_load()} | | | | |", flush=True)
                if with_ceilings:
                    for row in _raw_writes(sides, source, size, tmp):
                        print(row, flush=True)
                    for name, value in ceilings(source, size, tmp).items():
                        print(f"| | ceiling: {name} | {value:.0f} | | | | |")
                source.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average after: {_load()}")


def _iter_sizes(values: list[str]) -> Iterator[int]:
    for v in values:
        n = int(v)
        if not 1 <= n <= 2000:
            raise SystemExit("sizes are MB between 1 and 2000 (bounded on purpose)")
        yield n


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["100", "1000"])
    parser.add_argument(
        "--stores", nargs="+", choices=["filesystem", "postgresql"], default=["filesystem"]
    )
    parser.add_argument("--rounds", type=int, default=1, help="transfers per store and size")
    parser.add_argument(
        "--pg-url",
        help="PostgreSQL server for the servers' databases (one fresh database per store), "
        "e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres; SQLite without it",
    )
    parser.add_argument("--no-ceilings", action="store_true")
    parser.add_argument(
        "--client-download",
        action="store_true",
        help="also time the client's whole download (verify + decrypt + write + fsync)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another source tree (e.g. `git archive` of an older commit) whose server runs as "
        "one more PostgreSQL-store side, interleaved with the others",
    )
    args = parser.parse_args()
    run(
        list(_iter_sizes(args.sizes)),
        args.stores,
        max(1, min(args.rounds, 5)),
        args.pg_url,
        not args.no_ceilings,
        args.baseline,
        args.client_download,
    )
