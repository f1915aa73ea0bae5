"""Throw-away test databases: a SQLite file, or a fresh PostgreSQL database per run.

With `CORDON_TEST_DATABASE_URL` set (CI), the suite creates its own uniquely named database
on that server and drops it afterwards, so leftovers of earlier runs never matter.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

PG_ENV = "CORDON_TEST_DATABASE_URL"
REDIS_ENV = "CORDON_TEST_REDIS_URL"


def postgres_server_url() -> str | None:
    """The PostgreSQL server CI gave us, if any."""
    return os.environ.get(PG_ENV) or None


async def _admin(url: str, statement: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def temporary_database(tmp_dir: Path) -> Iterator[str]:
    """Yield the URL of an empty database that disappears afterwards."""
    server = postgres_server_url()
    if server is None:
        yield f"sqlite+aiosqlite:///{tmp_dir / f'cordon-{uuid.uuid4().hex}.db'}"
        return
    import asyncio

    name = f"cordon_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
