"""Fixtures: one migrated database per run, a fresh app, an API client, clean tables per test."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import httpx
import pytest
from cordon_client.cli.common import Options, set_options
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Base
from app.core.migrate import upgrade
from app.main import create_app
from tests.databases import temporary_database

if TYPE_CHECKING:
    from tests.e2e.server import Server

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head through Alembic, as production would be."""
    with temporary_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url)
        yield url


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Test settings: no demo seed, a fixed secret, small throttles."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "seed_demo": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def server(database_url: str) -> Iterator["Server"]:
    """A real uvicorn subprocess on the test database, shared by e2e and client tests."""
    from tests.e2e.server import running  # late: tests.e2e.server imports this module

    with running(database_url, CORDON_WS_QUEUE_SIZE="64", CORDON_WS_SEND_TIMEOUT_SECONDS="2") as s:
        yield s


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[FastAPI]:
    """An app with its own lifespan run around it, as uvicorn would (ASGITransport does not)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with serving(settings) as application:
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def session(app: object) -> AsyncIterator[AsyncSession]:
    """A session on the app's engine, for setting up and inspecting state."""
    async with app.state.sessionmaker() as s:  # type: ignore[attr-defined]
        yield s


@pytest.fixture(autouse=True)
def _fresh_cli_options() -> None:
    """An in-process CLI run (typer's CliRunner) records its global options (`--home`) in a
    context variable of the test's thread, which threads started later copy: start each test
    without them, so one test's `--home` never reaches another's commands."""
    set_options(Options())


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts from empty tables (migrations are applied once per run)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    async with application.state.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(delete(table))
