"""Real servers for end-to-end tests: uvicorn subprocesses on 127.0.0.1, and websockets
clients that speak the `/api/v1/ws` protocol."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A `uvicorn app.main:create_app` subprocess."""

    def __init__(
        self,
        database_url: str,
        redis_url: str | None = None,
        *,
        log_path: Path | None = None,
        cwd: Path | None = None,
        **env: str,
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        environ = {
            **os.environ,
            "CORDON_ENVIRONMENT": "test",
            "CORDON_DATABASE_URL": database_url,
            "CORDON_SECRET_KEY": TEST_SECRET,
            "CORDON_SEED_DEMO": "false",
            "CORDON_LOG_LEVEL": "WARNING",
            "CORDON_ALLOWED_ORIGINS": '["https://cordon.example"]',
            **env,
        }
        environ.pop("CORDON_REDIS_URL", None)
        if redis_url:
            environ["CORDON_REDIS_URL"] = redis_url
        log_file = log_path.open("wb") if log_path else None
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
                "--no-access-log",
                "--no-proxy-headers",
                "--log-level",
                "warning",
            ],
            cwd=cwd or ROOT,
            env=environ,
            stdout=log_file,
            stderr=subprocess.STDOUT if log_file else None,
        )
        if log_file:
            log_file.close()  # the child holds its own descriptor
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        """A start takes ~2 s here; 60 s only bounds a loaded machine (load 13 took over 20)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server on {self.port} not ready after {timeout}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running(
    database_url: str,
    redis_url: str | None = None,
    *,
    log_path: Path | None = None,
    cwd: Path | None = None,
    **env: str,
) -> Iterator[Server]:
    """A server for the duration of the block; `log_path` captures its output, `cwd` is its
    working directory (the checkout by default)."""
    server = Server(database_url, redis_url, log_path=log_path, cwd=cwd, **env)
    try:
        yield server
    finally:
        server.stop()


class RedisServer:
    """A throw-away redis-server (never the machine's shared one), for outage tests."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


async def ws_connect(
    server: Server, token: str, cursor: str | None = None, **kwargs: Any
) -> ClientConnection:
    """Open a socket, authenticate with the first frame, and read the `ready` frame."""
    ws = await connect(server.ws_url, **kwargs)
    await ws.send(json.dumps({"type": "auth", "token": token, "cursor": cursor}))
    ready = await recv(ws)
    assert ready["type"] == "ready", ready
    return ws


async def recv(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    """The next frame, or a clear failure after a bounded wait."""
    try:
        raw = await asyncio.wait_for(ws.recv(), timeout)
    except TimeoutError:
        raise AssertionError(f"no frame within {timeout}s") from None
    data: dict[str, Any] = json.loads(raw)
    return data


async def recv_until(ws: ClientConnection, kind: str, timeout: float = 10) -> list[dict[str, Any]]:
    """Frames up to and including the first of type `kind`."""
    frames = []
    while True:
        frame = await recv(ws, timeout)
        frames.append(frame)
        if frame["type"] == kind:
            return frames


async def recv_items(
    ws: ClientConnection,
    count: int,
    timeout: float = 15,
    kinds: tuple[str, ...] = ("alert", "chat"),
) -> list[dict[str, Any]]:
    """The next `count` item frames of the given kinds (other frames are skipped)."""
    items: list[dict[str, Any]] = []
    while len(items) < count:
        frame = await recv(ws, timeout)
        if frame["type"] == "item" and frame["kind"] in kinds:
            items.append(frame)
    return items
