"""Library transfer benchmark on loopback: our upload/download MB/s and peak RSS growth of the
server and the client, next to ceilings measured in the same run (file copy, AES-GCM over
1 MiB segments, raw httpx streaming to a trivial uvicorn endpoint).

    python bench/library_bench.py --sizes 100 1000      # MB (10^6 bytes)
    python bench/library_bench.py --sizes 100 1000 --rounds 2 \
        --stores filesystem postgresql --pg-url postgresql+asyncpg://postgres@127.0.0.1/postgres

Starts one `cordon-server serve` per store (demo seed; SQLite, or a fresh PostgreSQL database
per store with `--pg-url`; the filesystem store in a temp dir via `CORDON_BLOB_DIR`, the
PostgreSQL store without it) as subprocesses on free 127.0.0.1 ports, and alternates the stores
transfer by transfer, so both see the same load on a shared machine.

Peak RSS growth: the kernel's peak counter is reset (`/proc/<pid>/clear_refs`
= 5) right before each transfer and VmHWM − VmRSS(before) is reported.
"""

from __future__ import annotations

import argparse
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


@contextmanager
def _database(admin_url: str | None, name: str, tmp: Path) -> Iterator[str]:
    """A fresh PostgreSQL database on `admin_url`'s server (dropped afterwards), or a SQLite
    file when no server is given."""
    if admin_url is None:
        yield f"sqlite+aiosqlite:///{tmp / (name + '.db')}"
        return
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    db = f"cordon_bench_{name}_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database or "postgres",
        )
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
    if store == "filesystem":
        env["CORDON_BLOB_DIR"] = str(tmp / f"blobs-{port}")
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
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)

    async def pids() -> list[int]:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        try:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                url.database,
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


def _transfer(side: Side, source: Path, size: int, tmp: Path) -> list[str]:
    """Publish `source` through `side` and download it again; two table rows."""
    roster = _coordinator_roster(side.group_id, uuid.UUID(side.coord_device), side.coord_key)
    up_auth = {"Authorization": f"Bearer {side.coord_token}"}
    down_auth = {"Authorization": f"Bearer {side.member_token}"}
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
        reader = LibraryClient(down_http)
        dest = tmp / f"dest-{side.server.pid}.bin"
        with (
            PeakRss(side.server.pid) as s_down,
            PeakRss("self") as c_down,
            CpuUse(side) as cpu_down,
        ):
            t = time.perf_counter()
            reader.download(
                side.group_id,
                published.document_id,
                1,
                key=published.key,
                roster=roster,
                dest=dest,
            )
            down = time.perf_counter() - t
    assert dest.stat().st_size == size
    dest.unlink()
    gb = size / 1e9
    return [
        f"| {side.store} | upload (encrypt + PUT + finalise) | {_mbps(size, up):.0f} | "
        f"{cpu_up.server / gb:.1f} | {cpu_up.database / gb:.1f} | "
        f"{s_up.growth / MIB:.1f} MiB | {c_up.growth / MIB:.1f} MiB |",
        f"| {side.store} | download (GET + verify + decrypt + write) | {_mbps(size, down):.0f} | "
        f"{cpu_down.server / gb:.1f} | {cpu_down.database / gb:.1f} | "
        f"{s_down.growth / MIB:.1f} MiB | {c_down.growth / MIB:.1f} MiB |",
    ]


def run(
    sizes_mb: list[int],
    stores: list[str],
    rounds: int,
    pg_url: str | None,
    with_ceilings: bool,
    baseline: Path | None = None,
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
                        for row in _transfer(side, source, size, tmp):
                            print(row, flush=True)
                if with_ceilings:
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
    )
