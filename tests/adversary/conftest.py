"""Fixtures of the malicious-operator harness (see README.md in this directory)."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.adversary.operator_db import OperatorDB
from tests.adversary.party import Party
from tests.adversary.proxy import RewritingProxy
from tests.e2e.server import Server


@pytest.fixture
def proxy(server: Server) -> Iterator[RewritingProxy]:
    """A rewriting proxy in front of the run's real uvicorn server, fresh for each test; a
    rule that raised fails the test with its traceback."""
    with RewritingProxy(server.base) as p:
        yield p
    assert not p.errors, "a proxy rule raised:\n" + "\n".join(p.errors)


@pytest.fixture
def operator_db(session: AsyncSession) -> OperatorDB:
    """Direct edits of the server's database (the same one the real server runs on)."""
    return OperatorDB(session)


@pytest.fixture
async def party(
    server: Server, proxy: RewritingProxy, session: AsyncSession, tmp_path: Path
) -> AsyncIterator[Party]:
    """Users, devices and groups through the real API; every client is closed afterwards."""
    p = Party(server, proxy, session, tmp_path)
    try:
        yield p
    finally:
        await p.close()
