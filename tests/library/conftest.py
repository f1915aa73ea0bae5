"""Library fixtures: an app whose blobs live in a temporary directory, and a real server.

The `app` override keeps blobs out of the working tree; the root `_clean_tables` fixture still
empties the tables after every test because it looks the `app` fixture up by name.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.core.config import Settings
from tests.conftest import make_settings, serving
from tests.e2e.server import Server, running


@pytest.fixture(scope="package")
def blob_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("blobs")


@pytest.fixture(scope="package")
def settings(database_url: str, blob_dir: Path) -> Settings:
    return make_settings(database_url, blob_dir=str(blob_dir))


@pytest.fixture(scope="package")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    async with serving(settings) as application:
        yield application


@pytest.fixture(scope="package")
def live_server(database_url: str, blob_dir: Path) -> Iterator[Server]:
    """A real uvicorn subprocess sharing the test database and this package's blob store;
    one for the package, like the session's `server` (the tables are emptied after each test)."""
    with running(database_url, CORDON_BLOB_DIR=str(blob_dir)) as server:
        yield server
