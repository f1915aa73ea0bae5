"""Liveness and readiness probes."""

from pathlib import Path

import httpx

from app.main import create_app
from tests.conftest import make_settings


async def test_healthz_and_readyz(client: httpx.AsyncClient):
    """A migrated database makes the server ready."""
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["migrations"] == "head"


async def test_readyz_on_unmigrated_database(tmp_path: Path):
    """An empty database is reachable but not ready: 503, migrations behind."""
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
    await app.state.engine.dispose()
    assert r.status_code == 503 and r.json()["migrations"] == "behind"
