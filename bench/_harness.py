"""Shared pieces of the messaging benchmarks: scratch databases, seeded devices, a real
uvicorn subprocess on 127.0.0.1, a bare `websockets` server as the fan-out ceiling, a minimal
keep-alive HTTP/1.1 client and a few statistics helpers.

Nothing here imports from `tests/`; the server start-up copies the ideas of
`tests/e2e/server.py`. Run `python bench/_harness.py bare-ws --port N` to start the bare
`websockets` server on its own (the benchmarks do that for you).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "clients" / "python"))

BENCH_SECRET = "bench-secret-key-0123456789abcdef0123456789"
PG_SERVER = os.environ.get(
    "CORDON_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


# --------------------------------------------------------------------------- machine, stats


def loadavg() -> str:
    """`uptime`'s three load averages, recorded next to every result."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def raise_nofile() -> int:
    """Raise this process's open-file limit to the hard limit (children inherit it)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[rank]


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise KeyError("VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- databases


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A migrated, empty database that is dropped afterwards: a SQLite file in a temp dir,
    or `cordon_bench_<hex>` on the local PostgreSQL server."""
    from sqlalchemy.engine import make_url

    from app.core.migrate import upgrade

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cordon-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    name = f"cordon_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _pg_admin(statement: str) -> None:
    import asyncpg  # type: ignore[import-untyped]
    from sqlalchemy.engine import make_url

    parsed = make_url(PG_SERVER)
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def raw_dsn(url: str) -> str:
    """The driver-level address of a SQLAlchemy URL (a file path or a libpq DSN)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.database)
    user = parsed.username or "postgres"
    return f"postgresql://{user}@{parsed.host}:{parsed.port or 5432}/{parsed.database}"


# --------------------------------------------------------------------------- seeding


@dataclass
class Device:
    """A seeded device: its bearer token, id, and (for senders) its private signing key."""

    token: str
    device_id: str
    signing_key: Any = None  # Ed25519PrivateKey (envelopes, receipts)


@dataclass
class Seeded:
    """One active group; `senders` may post, `readers` only read (all are members)."""

    group_id: str
    senders: list[Device] = field(default_factory=list)
    readers: list[Device] = field(default_factory=list)


async def _seed(url: str, senders: int, readers: int) -> Seeded:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.auth.models import AccessToken
    from app.core.db import create_engine, create_sessionmaker
    from app.core.security import new_token, token_digest
    from app.core.types import utcnow
    from app.devices.models import Device as DeviceRow
    from app.groups.models import Group, Membership
    from app.organisations.models import Organisation
    from app.users.models import User

    engine = create_engine(url)
    maker = create_sessionmaker(engine)
    since = utcnow() - timedelta(minutes=5)
    async with maker() as session:
        org = Organisation(name=f"Bench {uuid.uuid4().hex[:8]}", country_code="BE", region="EUR")
        session.add(org)
        await session.flush()
        group = Group(name=f"bench-{uuid.uuid4().hex[:8]}", status="active")
        session.add(group)
        await session.flush()
        seeded = Seeded(group_id=str(group.id))
        users, devices, rest = [], [], []
        for index in range(senders + readers):
            user = User(
                id=uuid.uuid4(),
                organisation_id=org.id,
                username=f"b{uuid.uuid4().hex[:12]}",
                display_name="Bench Officer",
                password_hash=None,
            )
            key = Ed25519PrivateKey.generate()  # readers sign their receipts
            public = key.public_key().public_bytes_raw()
            device = DeviceRow(
                id=uuid.uuid4(),
                user_id=user.id,
                name="bench",
                signing_key=public,
                exchange_key=os.urandom(32),
            )
            secret = new_token("cdn")
            users.append(user)
            devices.append(device)
            rest += [
                AccessToken(
                    token_digest=token_digest(BENCH_SECRET, secret),
                    user_id=user.id,
                    device_id=device.id,
                    expires_at=utcnow() + timedelta(hours=12),
                ),
                Membership(group_id=group.id, user_id=user.id, role="member", added_at=since),
            ]
            entry = Device(token=secret, device_id=str(device.id), signing_key=key)
            (seeded.senders if index < senders else seeded.readers).append(entry)
        for rows in (users, devices, rest):  # parents first: no relationships to order them
            session.add_all(rows)
            await session.flush()
        await session.commit()
    await engine.dispose()
    return seeded


def seed(url: str, *, senders: int, readers: int) -> Seeded:
    """Users, devices, live tokens and memberships of one active group, written straight
    into the scratch database through the app's ORM models (no login round trips)."""
    return asyncio.run(_seed(url, senders, readers))


# --------------------------------------------------------------------------- envelopes


def sealed_post(sender: Device, group_id: str, text: str = "bench message") -> tuple[str, bytes]:
    """A real broadcast `alert` envelope signed by the sender's device, as the JSON body of
    `POST /groups/{id}/messages`; returns (client_msg_id, body)."""
    from cordon_client.crypto import ContentType, SenderChain, seal_broadcast

    msg_id = uuid.uuid4()
    ts = int(time.time() * 1000)
    device_id = uuid.UUID(sender.device_id)
    envelope = seal_broadcast(
        chain=SenderChain.new(device_id, ts, 0),
        signing_key=sender.signing_key,
        sender_device_id=device_id,
        group_id=uuid.UUID(group_id),
        epoch_id=bytes(32),
        content_type=ContentType.ALERT,
        content=text.encode(),
        ts=ts,
        message_id=msg_id,
    )
    body = {
        "kind": "alert",
        "client_msg_id": str(msg_id),
        "envelope": base64.b64encode(envelope).decode(),
    }
    return str(msg_id), json.dumps(body, separators=(",", ":")).encode()


def post_request(group_id: str, token: str, body: bytes, *, batch: bool = False) -> bytes:
    """The raw HTTP/1.1 request of one post, or of a batch post (keep-alive)."""
    path = f"/api/v1/groups/{group_id}/messages" + ("/batch" if batch else "")
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class RawHttp:
    """One keep-alive HTTP/1.1 connection with almost no client-side cost, so the client
    does not compete with the server for the two cores more than it must."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: int) -> RawHttp:
        """Connect to 127.0.0.1:port."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request; returns (status, body)."""
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self._reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        """Close the connection."""
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except OSError:
            pass


# --------------------------------------------------------------------------- servers


def _raise_child_nofile() -> None:
    raise_nofile()


class Server:
    """`uvicorn app.main:create_app` on 127.0.0.1, configured as `cordon-server serve` runs it
    (`CordonHttpProtocol` on httptools, uvloop, `CordonWebSocketProtocol`, permessage-deflate
    off), on a scratch database."""

    def __init__(self, database_url: str, *, log: Path | None = None, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        environ = {
            **os.environ,
            "CORDON_ENVIRONMENT": "test",
            "CORDON_DATABASE_URL": database_url,
            "CORDON_SECRET_KEY": BENCH_SECRET,
            "CORDON_SEED_DEMO": "false",
            "CORDON_LOG_LEVEL": "WARNING",
            "CORDON_WS_IDLE_SECONDS": "900",
            "CORDON_WS_AUTH_SECONDS": "120",
            **env,
        }
        environ.pop("CORDON_REDIS_URL", None)
        environ.update({k: v for k, v in env.items() if k == "CORDON_REDIS_URL"})
        self._own_log = log is None
        self.log = log or Path(tempfile.mkstemp(prefix="cordon-bench-", suffix=".log")[1])
        out = self.log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--http",
                "app.core.http_protocol:CordonHttpProtocol",
                "--ws",
                "app.realtime.transport:CordonWebSocketProtocol",
                "--ws-per-message-deflate",
                "false",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_raise_child_nofile,
        )
        self.pid = self.process.pid
        try:
            _wait_http(f"{self.base}/healthz", self.process)
        except RuntimeError:
            print(self.log.read_text()[-3000:], file=sys.stderr)
            raise

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; the log goes unless the caller named it."""
        _stop(self.process)
        if self._own_log:
            self.log.unlink(missing_ok=True)


class BareServer:
    """The ceiling: a bare `websockets` server that answers the auth frame with `ready` and
    relays every frame a `sender` connection sends to all receivers with `broadcast()`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.ws_url = f"ws://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "bare-ws", "--port", str(self.port)],
            cwd=ROOT,
            preexec_fn=_raise_child_nofile,
        )
        self.pid = self.process.pid
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("bare websockets server did not start")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        _stop(self.process)


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def _bare_ws(port: int, stop_after: float) -> None:
    import websockets
    from websockets.asyncio.server import ServerConnection, serve

    receivers: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        first = json.loads(await ws.recv())
        sender = first.get("role") == "sender"
        await ws.send(json.dumps({"type": "ready", "device_id": "bare"}))
        await ws.send(json.dumps({"type": "caught_up", "cursor": ""}))
        if not sender:
            receivers.add(ws)
            try:
                await ws.wait_closed()
            finally:
                receivers.discard(ws)
            return
        async for message in ws:
            if isinstance(message, str) and message.startswith('{"type":"backlog"'):
                count = json.loads(message)["count"]
                frame = json.loads(message)["frame"]
                for _ in range(count):  # the catch-up ceiling: frames straight to the socket
                    await ws.send(frame)
                await ws.send(json.dumps({"type": "caught_up", "cursor": ""}))
            else:
                websockets.broadcast(receivers, message)

    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**22):
        await asyncio.sleep(stop_after)


def main(argv: list[str]) -> None:
    """`bare-ws --port N [--seconds S]`: run the ceiling server (stops by itself)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["bare-ws"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=900)
    args = parser.parse_args(argv)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_bare_ws(args.port, args.seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
