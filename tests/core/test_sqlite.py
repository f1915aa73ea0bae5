"""`app.core.sqlite`: SQLAlchemy on aiosqlite connections that cross into aiosqlite's thread
once per statement, with the DB-API behaviour SQLAlchemy relies on unchanged."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core import sqlite
from app.core.db import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    # check_same_thread=True: sqlite3 raises if any of its objects is used off the thread
    # that opened the connection, so every test here also checks the thread confinement.
    engine = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'one.db'}", connect_args={"check_same_thread": True}
    )
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_connections_are_one_crossing_connections(engine: AsyncEngine):
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite.OneCrossingConnection)


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions sent to aiosqlite's thread, in order (tests clear it once set up)."""
    sent: list[str] = []
    original = sqlite.OneCrossingConnection._execute

    async def counted(self: sqlite.OneCrossingConnection, fn: object, *args: object) -> object:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args)

    monkeypatch.setattr(sqlite.OneCrossingConnection, "_execute", counted)
    return sent


async def test_a_statement_crosses_into_the_thread_once(engine: AsyncEngine, crossings: list[str]):
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection and its pragmas are set up
        crossings.clear()
        rows = (await conn.execute(text("SELECT name FROM t WHERE id > :n"), {"n": 0})).all()
        assert rows == []
        assert crossings == ["_run"]


async def test_a_rollback_crosses_only_when_there_is_something_to_undo(
    engine: AsyncEngine, crossings: list[str]
):
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        crossings.clear()
        await conn.execute(text("SELECT name FROM t"))
        await conn.rollback()  # only read: nothing to undo
        assert crossings == ["_run"]
        await conn.execute(text("INSERT INTO t (name) VALUES ('undone')"))
        await conn.rollback()
        assert crossings == ["_run", "_run", "rollback"]
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_rows_rowcounts_and_returning_come_back(engine: AsyncEngine):
    async with engine.begin() as conn:
        inserted = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(5)]
        )
        assert inserted.rowcount == 5
        returned = await conn.execute(
            text("INSERT INTO t (name) VALUES ('last') RETURNING id, name")
        )
        assert returned.one() == (6, "last")
        single = await conn.execute(text("INSERT INTO t (name) VALUES ('lastrow')"))
        assert single.lastrowid == 7
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id <= 3"))
        assert updated.rowcount == 3
        result = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "name"]
        assert result.fetchmany(2) == [(1, "n0!"), (2, "n1!")]
        assert result.fetchone() == (3, "n2!")
        assert [row.id for row in result.fetchall()] == [4, 5, 6, 7]
        deleted = await conn.execute(text("DELETE FROM t WHERE id > 5"))
        assert deleted.rowcount == 2


async def test_a_streamed_result_reads_every_row(engine: AsyncEngine):
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(250)]
        )
        result = await conn.stream(text("SELECT id FROM t ORDER BY id"))
        seen = [row.id async for row in result]
    assert seen == list(range(1, 251))


async def test_errors_roll_back_and_leave_the_connection_usable(engine: AsyncEngine):
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('same')"))
        await conn.commit()
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('other')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('same')"))
        await conn.rollback()
        names = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all()
        assert names == ["same"]
