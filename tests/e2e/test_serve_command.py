"""The README's main job, run for real: `cordon-server serve` migrates, seeds and serves.

A subprocess on 127.0.0.1 with a fresh SQLite file; the test logs in over the network as the
printed demo accounts would, then checks that neither the logs nor the database file hold a
password, a TOTP seed or a bearer token.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from websockets.asyncio.client import connect

from app.demo.service import DEMO_PASSWORD, DEMO_TOTP_SEED
from tests.factories import device_keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    db_path: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    db = tmp_path / "cordon.db"
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "CORDON_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "CORDON_SEED_DEMO": "true",
        "CORDON_ENVIRONMENT": "development",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=Path(__file__).parents[2],
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"server exited early:\n{log.read_text()}")
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"server never became ready:\n{log.read_text()}")
    yield Served(base, proc, log, db)
    proc.terminate()
    proc.wait(timeout=20)


async def _stream_until_caught_up(base_url: str, token: str) -> list[dict[str, Any]]:
    ws_url = base_url.replace("http://", "ws://") + "/api/v1/ws"
    async with connect(ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        frames = [json.loads(await asyncio.wait_for(ws.recv(), 10))]
        while frames[-1]["type"] != "caught_up":
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        return frames


def test_serve_seeds_demo_and_keeps_secrets_out(served: Served):
    """Demo users log in (TOTP for the coordinator); no secret reaches the logs or the DB."""
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        member = http.post(
            "/api/v1/auth/login",
            json={"username": "be.ncp", "password": DEMO_PASSWORD, "device": device_keys()},
        )
        assert member.status_code == 200, member.text
        token = member.json()["access_token"]
        groups = http.get("/api/v1/groups", headers={"Authorization": f"Bearer {token}"}).json()
        assert [g["my_role"] for g in groups] == ["member"]
        roster = http.get(
            f"/api/v1/groups/{groups[0]['id']}/members",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert {m["role"] for m in roster} == {"coordinator", "member", "observer"}
        coordinator = http.post(
            "/api/v1/auth/login",
            json={
                "username": "ocu.coordinator",
                "password": DEMO_PASSWORD,
                "totp_code": pyotp.TOTP(DEMO_TOTP_SEED).now(),
                "device": device_keys(),
            },
        )
        assert coordinator.status_code == 200, coordinator.text
        coord_token = coordinator.json()["access_token"]
    # The stream socket, through the websocket protocol `serve` configures.
    frames = asyncio.run(_stream_until_caught_up(served.base_url, token))
    assert [f["type"] for f in frames][0] == "ready" and frames[-1]["type"] == "caught_up"
    served.process.terminate()
    served.process.wait(timeout=20)
    logs = served.log_path.read_text()
    assert "cordon.access" in logs and "/api/v1/auth/login" in logs
    assert '"path": "/api/v1/ws"' in logs  # sockets get their access line too
    stored = b"".join(p.read_bytes() for p in served.db_path.parent.glob("cordon.db*"))
    for secret in (token, coord_token, DEMO_TOTP_SEED):
        assert secret not in logs
        assert secret.encode() not in stored
    assert DEMO_PASSWORD.encode() not in stored


async def _socket_with_token_in_url(base_url: str, token: str) -> None:
    ws_url = base_url.replace("http://", "ws://") + f"/api/v1/ws?token={token}&access_token={token}"
    async with connect(ws_url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "ready"


def test_serve_logs_no_token_and_ignores_forwarded_for(served: Served):
    """A token a client puts in the websocket URL reaches no log line; and with no trusted
    proxy, a new `X-Forwarded-For` per attempt does not escape the per-address login limit
    (uvicorn itself trusts it from 127.0.0.1 unless told not to)."""
    with httpx.Client(base_url=served.base_url, timeout=30) as http:
        member = http.post(
            "/api/v1/auth/login",
            json={"username": "be.ncp", "password": DEMO_PASSWORD, "device": device_keys()},
        )
        assert member.status_code == 200, member.text
        token = member.json()["access_token"]
        asyncio.run(_socket_with_token_in_url(served.base_url, token))
        for i in range(20):  # CORDON_ADDRESS_MAX_FAILURES
            r = http.post(
                "/api/v1/auth/login",
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                json={"username": f"spray{i}", "password": "wrong", "device": device_keys()},
            )
            assert r.status_code == 401, r.text
        r = http.post(
            "/api/v1/auth/login",
            headers={"X-Forwarded-For": "203.0.113.1"},
            json={"username": "be.ncp", "password": DEMO_PASSWORD, "device": device_keys()},
        )
        assert r.status_code == 429, r.text
        assert r.headers["retry-after"].isdigit()
    served.process.terminate()
    served.process.wait(timeout=20)
    logs = served.log_path.read_text()
    assert "WebSocket /api/v1/ws?[redacted]" in logs  # the line is there, the query is not
    assert token not in logs
