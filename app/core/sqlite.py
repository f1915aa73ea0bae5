"""aiosqlite with one crossing into its thread per statement, not four.

aiosqlite runs every sqlite3 call on its own thread and hands each result back to the event
loop: ~55 µs of CPU and ~70 µs of wall time per crossing here, against ~4 µs for a simple
query run in sqlite3 itself (docs/benchmarks.md). SQLAlchemy's adapter makes four crossings
for every statement — open a cursor, execute, fetch the rows, close — and one for each
rollback when a connection goes back to the pool, so a post spent more time crossing than
querying (27 crossings). The cursor here does all four in one call on aiosqlite's thread, and
a rollback with nothing to undo does not cross at all (6 crossings per post); sqlite3 objects
are still only ever touched on that thread.

What the adapter reads afterwards (`description`, `rowcount`, `lastrowid`, the rows) is kept
on the cursor. Results are read whole, as SQLAlchemy's adapter already does for every
buffered cursor.
"""

import sqlite3
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

Outcome = tuple[Any, int, int | None, list[Any]]


def _run(conn: sqlite3.Connection, many: bool, sql: str, parameters: Any) -> Outcome:
    """On aiosqlite's thread: the whole life of one cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneCrossingCursor:
    """The part of `aiosqlite.Cursor` SQLAlchemy's adapter uses, one crossing per execute."""

    arraysize = 1

    def __init__(self, connection: "OneCrossingConnection") -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> "OneCrossingCursor":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _execute(self, many: bool, sql: str, parameters: Any) -> "OneCrossingCursor":
        connection = self._connection
        outcome: Outcome = await connection._execute(  # type: ignore[no-untyped-call]
            _run, connection._conn, many, sql, parameters
        )
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Any:
        return await self._execute(False, sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Any:
        return await self._execute(True, sql, parameters)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class OneCrossingConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors cross into its thread once per statement."""

    def cursor(self) -> OneCrossingCursor:  # type: ignore[override]
        return OneCrossingCursor(self)

    async def rollback(self) -> None:
        """Roll back, without crossing when no transaction is open: SQLAlchemy rolls back
        every connection it takes back into its pool, and most, after a commit or only
        reads, have nothing to undo. (`in_transaction` only reads SQLite's autocommit flag,
        and nothing else runs on this connection meanwhile: the adapter awaits each call.)"""
        if self._conn.in_transaction:
            await super().rollback()


def connect(database: str, **kwargs: Any) -> OneCrossingConnection:
    """`aiosqlite.connect` for `OneCrossingConnection` (SQLAlchemy awaits it, which starts
    the thread and opens the database there); the thread is a daemon, as SQLAlchemy makes
    aiosqlite's own."""
    connection = OneCrossingConnection(lambda: sqlite3.connect(database, **kwargs), 64)
    connection._thread.daemon = True
    return connection
