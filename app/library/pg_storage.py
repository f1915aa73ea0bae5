"""The PostgreSQL blob store: every server process sharing the database sees the same blobs.

With local directories, a document published through one process was missing on the others
(issue 15); this store keeps the ciphertext in the database the processes already share:

    blob_upload (id)                        an open upload; writers hold its row lock shared
    blob_segment (owner, idx, start, data)  one row per segment (≤ 1 MiB + tag), owned by the
                                            upload that wrote it, and by its blob once published
    blob (sha256, size, owner)              a published blob: its segments are `owner`'s

Memory per call is bounded by segments, never a whole file: a segment is one bytea row, written
by one statement; a download reads `READ_BATCH` segments per query (a `substring` of each for
the edges of a byte range) with the next `PREFETCH` batches fetched while one is sent.
Segment writes and reads run on the store's own small asyncpg pool, not the app's engine: the
engine pre-pings every checkout (BEGIN, `;`, ROLLBACK: three round trips), which cost more of
the server's CPU than the statement it guarded; a connection the server closed is replaced by
the pool at checkout, and a call that loses its connection midway is tried once more.
`data` is stored EXTERNAL (uncompressed; ciphertext does not compress), so `length()` and
`substring()` read only what they need. Segment writes commit without waiting for the WAL
flush (`synchronous_commit = off`): the publishing transaction does wait, and its flush makes
every earlier segment durable with it, as the filesystem store's one fsync before the rename.
Staging holds the upload's row lock exclusively until publish or discard, so a late writer
waits and then finds the upload gone. Segments are hashed in order as they come (a running
SHA-256 per upload, in this process); one that arrives ahead of its turn is held in memory
(at most `HELD_BYTES` per process) until its turn, and what was not held, or was stored by
another process, is read back at staging.
"""

import asyncio
import contextlib
import hashlib
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.library.storage import RUNNING_HASHES, Buffer, SegmentOutcome, StagedBlob

_IN_ORDER_HASH_MIN = 64 * 1024  # below this, hashing on the event loop beats a thread hop
READ_BATCH = 4  # segments fetched per query (and per pooled connection) while streaming
PREFETCH = 2  # batches fetched ahead of the one being sent, each on its own connection
POOL_SIZE = 8  # the store's connections per process (the engine's pool stays the app's)
# A connection PostgreSQL terminated: reported as lost, or (when the pool hands out one whose
# last operation the termination cut short) as a protocol state error.
_LOST = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)
_T = TypeVar("_T")
HELD_BYTES = 24 * 1024 * 1024  # segments held per process until they can be hashed in order
# The upload's row lock shared, the segment inserted unless one is there, and the commit not
# waiting for the WAL flush (`set_config(..., true)` lasts this statement's transaction).
_PUT_SEGMENT = """
WITH commit_mode AS (SELECT set_config('synchronous_commit', 'off', true)),
     upload AS (SELECT id FROM blob_upload WHERE id = $1 FOR SHARE),
     inserted AS (
         INSERT INTO blob_segment (owner, idx, start, data)
         SELECT $1, $2, $3, $4 FROM upload
         ON CONFLICT DO NOTHING
         RETURNING 1
     )
SELECT EXISTS (SELECT 1 FROM upload), EXISTS (SELECT 1 FROM inserted),
       (SELECT count(*) FROM commit_mode)
"""


@dataclass(slots=True)
class _Running:
    """SHA-256 over segments 0..`next_index`-1, and a lock that keeps their order."""

    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    next_index: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    held: dict[int, bytes] = field(default_factory=dict)  # stored, arrived ahead of order


@dataclass(slots=True)
class _Lease:
    """The staging transaction: its connection, kept until publish or discard."""

    connection: AsyncConnection
    raw: Any
    transaction: Any
    upload_id: uuid.UUID
    finished: bool = False


async def _update(digest: "hashlib._Hash", data: bytes) -> None:
    if len(data) < _IN_ORDER_HASH_MIN:
        digest.update(data)
    else:
        await to_thread.run_sync(digest.update, data)


class PostgresBlobStore:
    """`BlobStore` on the app's PostgreSQL engine (raw asyncpg statements on pooled
    connections; a connection is held per call, or from stage to discard)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._running: OrderedDict[uuid.UUID, _Running] = OrderedDict()
        self._held_bytes = 0
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()

    @staticmethod
    async def _raw(connection: AsyncConnection) -> Any:
        return (await connection.get_raw_connection()).driver_connection

    async def _blob_pool(self) -> Any:
        """The store's pool, opened on first use with the engine's connection arguments."""
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    _, options = self._engine.dialect.create_connect_args(self._engine.url)
                    for sqlalchemy_only in ("prepared_statement_cache_size", "async_creator_fn"):
                        options.pop(sqlalchemy_only, None)
                    settings = {"application_name": "cordon-blob-store"}
                    self._pool = await asyncpg.create_pool(
                        min_size=0,
                        max_size=POOL_SIZE,
                        reset=_keep_session,
                        server_settings={**options.pop("server_settings", {}), **settings},
                        **options,
                    )
        return self._pool

    async def _call(self, statements: Callable[[Any], Awaitable[_T]]) -> _T:
        """Run `statements` on a pooled connection; once more on a fresh one if the
        connection was lost (every caller is idempotent: a segment stored by the lost try
        reads as a duplicate)."""
        pool = await self._blob_pool()
        try:
            async with pool.acquire() as raw:
                return await statements(raw)
        except _LOST:
            # Its idle siblings were most likely cut off too: replace them all, not one by one.
            await pool.expire_connections()
            async with pool.acquire() as raw:
                return await statements(raw)

    async def aclose(self) -> None:
        """Close the store's pool (the app's lifespan does, after the last request)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def open_upload(self, upload_id: uuid.UUID) -> None:
        """Make room for a new upload's segments."""
        await self._call(
            lambda raw: raw.execute(
                "INSERT INTO blob_upload (id) VALUES ($1) ON CONFLICT DO NOTHING", upload_id
            )
        )

    async def put_segment(
        self, upload_id: uuid.UUID, index: int, offset: int, parts: Sequence[Buffer]
    ) -> SegmentOutcome:
        """Store a segment (given in parts) at `offset` once; the same bytes again are a no-op,
        other bytes a conflict, and GONE if the upload was finalised or dropped meanwhile."""
        data = parts[0] if len(parts) == 1 and isinstance(parts[0], bytes) else b"".join(parts)

        async def store(raw: Any) -> SegmentOutcome:
            # One round trip, not five: under CPU contention each waits for the backend.
            row = await raw.fetchrow(_PUT_SEGMENT, upload_id, index, offset, data)
            open_, stored = row[0], row[1]
            if not open_:
                return SegmentOutcome.GONE
            if stored:
                return SegmentOutcome.STORED
            same = await raw.fetchval(
                "SELECT start = $3 AND data = $4 FROM blob_segment WHERE owner = $1 AND idx = $2",
                upload_id,
                index,
                offset,
                data,
            )
            return SegmentOutcome.DUPLICATE if same else SegmentOutcome.CONFLICT

        outcome = await self._call(store)
        if outcome is SegmentOutcome.STORED:
            await self._hash_in_order(upload_id, index, data)
        return outcome

    async def _hash_in_order(self, upload_id: uuid.UUID, index: int, data: bytes) -> None:
        """Extend the upload's running hash with this segment if it is the next one, then
        with held segments that follow it; a later segment is held in memory while the
        process-wide budget allows (uploads send a few batches at once, so segments arrive
        a batch or two ahead), else left for staging to read back from the database."""
        running = self._running.get(upload_id)
        if running is None:
            running = self._running[upload_id] = _Running()
            while len(self._running) > RUNNING_HASHES:
                self._release(self._running.popitem(last=False)[1])
        async with running.lock:
            if index == running.next_index:
                await _update(running.digest, data)
                running.next_index += 1
                while (held := running.held.pop(running.next_index, None)) is not None:
                    self._held_bytes -= len(held)
                    await _update(running.digest, held)
                    running.next_index += 1
            elif (
                index > running.next_index
                and index not in running.held
                and self._held_bytes + len(data) <= HELD_BYTES
            ):
                running.held[index] = data
                self._held_bytes += len(data)

    def _release(self, running: _Running | None) -> None:
        """Forget an upload's running hash and give its held segments back to the budget."""
        if running is not None:
            self._held_bytes -= sum(len(d) for d in running.held.values())
            running.held.clear()

    async def segment_sizes(self, upload_id: uuid.UUID) -> dict[int, int]:
        """Sizes of the segments received so far, by index."""
        rows = await self._call(
            lambda raw: raw.fetch(
                "SELECT idx, length(data) FROM blob_segment WHERE owner = $1", upload_id
            )
        )
        return {int(row[0]): int(row[1]) for row in rows}

    async def stage(self, upload_id: uuid.UUID) -> StagedBlob | None:
        """Lock the upload and hash its segments in order (None if it is gone); still hidden."""
        connection = await self._engine.connect()
        try:
            raw = await self._raw(connection)
            transaction = raw.transaction()
            await transaction.start()
            lease = _Lease(connection, raw, transaction, upload_id)
            try:
                if not await raw.fetchval(
                    "SELECT 1 FROM blob_upload WHERE id = $1 FOR UPDATE", upload_id
                ):
                    await self._finish(lease, commit=False)
                    return None
                sha256_hex, size = await self._digest(raw, upload_id)
            except BaseException:
                await self._finish(lease, commit=False)
                raise
        except BaseException:
            await connection.close()
            raise
        return StagedBlob(sha256_hex, size, lease=lease)

    async def _digest(self, raw: Any, upload_id: uuid.UUID) -> tuple[str, int]:
        """SHA-256 and size of the upload's segments in order: the running hash for the prefix
        this process saw arrive in order, the rest read back one segment at a time."""
        running = self._running.get(upload_id) or _Running()
        async with running.lock:
            digest = running.digest.copy()
            rows = await raw.fetch(
                "SELECT idx, start, length(data) FROM blob_segment WHERE owner = $1 ORDER BY idx",
                upload_id,
            )
            size = 0
            for idx, start, length in rows:
                if start != size:
                    raise OSError(f"segment {idx} of upload {upload_id} does not follow on")
                if idx >= running.next_index:
                    data = running.held.get(idx) or await raw.fetchval(
                        "SELECT data FROM blob_segment WHERE owner = $1 AND idx = $2",
                        upload_id,
                        idx,
                    )
                    await _update(digest, data)
                size += length
        return digest.hexdigest(), size

    async def publish(self, staged: StagedBlob) -> None:
        """Make a staged blob visible under its digest and close the upload, in one commit; a
        blob already published under the digest keeps its segments and this upload's go."""
        lease = _lease(staged)
        raw = lease.raw
        inserted = await raw.execute(
            "INSERT INTO blob (sha256, size, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            staged.sha256_hex,
            staged.size,
            lease.upload_id,
        )
        if inserted != "INSERT 0 1":
            await raw.execute("DELETE FROM blob_segment WHERE owner = $1", lease.upload_id)
        await raw.execute("DELETE FROM blob_upload WHERE id = $1", lease.upload_id)
        await self._finish(lease, commit=True)
        self._release(self._running.pop(lease.upload_id, None))

    async def discard(self, staged: StagedBlob) -> None:
        """Release a staged blob; an unpublished upload keeps its segments."""
        await self._finish(_lease(staged), commit=False)

    @staticmethod
    async def _finish(lease: _Lease, *, commit: bool) -> None:
        if lease.finished:
            return
        lease.finished = True
        try:
            if commit:
                await lease.transaction.commit()
            else:
                await lease.transaction.rollback()
        finally:
            await lease.connection.close()

    async def drop_upload(self, upload_id: uuid.UUID) -> None:
        """Remove an upload and its segments (unless a published blob owns them now)."""
        self._release(self._running.pop(upload_id, None))

        async def drop(raw: Any) -> None:
            async with raw.transaction():
                await raw.execute("DELETE FROM blob_upload WHERE id = $1", upload_id)
                await raw.execute(
                    "DELETE FROM blob_segment WHERE owner = $1"
                    " AND NOT EXISTS (SELECT 1 FROM blob WHERE owner = $1)",
                    upload_id,
                )

        await self._call(drop)

    async def size(self, sha256_hex: str) -> int | None:
        """Size of a published blob whose segments are all present, or None."""
        row = await self._call(
            lambda raw: raw.fetchrow(
                "SELECT b.size, (SELECT coalesce(sum(length(s.data)), 0) FROM blob_segment s"
                " WHERE s.owner = b.owner) FROM blob b WHERE b.sha256 = $1",
                sha256_hex,
            )
        )
        if row is None or int(row[0]) != int(row[1]):
            return None
        return int(row[0])

    async def read(self, sha256_hex: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Stream bytes [start, end) a batch of segments at a time, the next `PREFETCH`
        batches fetched while the current one is sent; a connection is held only per fetch."""

        async def locate(raw: Any) -> tuple[list[Any], Any]:
            rows = await raw.fetch(
                "SELECT s.idx, s.start, length(s.data), b.owner FROM blob b"
                " JOIN blob_segment s ON s.owner = b.owner"
                " WHERE b.sha256 = $1 AND s.start < $3 AND s.start + length(s.data) > $2"
                " ORDER BY s.idx",
                sha256_hex,
                start,
                end,
            )
            return rows, rows[0][3] if rows else None

        rows, owner = await self._call(locate)
        spans = [
            (int(idx), max(start, seg_start) - seg_start, min(end, seg_start + length) - seg_start)
            for idx, seg_start, length, _ in rows
        ]
        if sum(hi - lo for _, lo, hi in spans) != end - start:
            raise FileNotFoundError(f"blob {sha256_hex} is missing segments")
        batches = deque(spans[i : i + READ_BATCH] for i in range(0, len(spans), READ_BATCH))
        pending: deque[asyncio.Task[list[bytes]]] = deque()
        try:
            while batches or pending:
                while batches and len(pending) <= PREFETCH:
                    pending.append(asyncio.ensure_future(self._fetch(owner, batches.popleft())))
                chunks = await pending.popleft()
                for chunk in chunks:
                    yield chunk
        finally:
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(BaseException):
                    await task

    async def _fetch(self, owner: uuid.UUID, spans: list[tuple[int, int, int]]) -> list[bytes]:
        """The byte spans of a few segments, in one query."""
        rows = await self._call(
            lambda raw: raw.fetch(
                # A whole segment as it is: substring() of one costs the backend twice the CPU.
                "SELECT s.idx, CASE WHEN w.lo = 0 AND w.hi = length(s.data) THEN s.data"
                " ELSE substring(s.data FROM w.lo + 1 FOR w.hi - w.lo) END"
                " FROM unnest($2::int[], $3::int[], $4::int[]) AS w(idx, lo, hi)"
                " JOIN blob_segment s ON s.owner = $1 AND s.idx = w.idx ORDER BY s.idx",
                owner,
                [idx for idx, _, _ in spans],
                [lo for _, lo, _ in spans],
                [hi for _, _, hi in spans],
            )
        )
        found = {int(row[0]): row[1] for row in rows}
        chunks = []
        for idx, lo, hi in spans:
            data = found.get(idx)
            if data is None or len(data) != hi - lo:
                raise FileNotFoundError(f"segment {idx} of blob owner {owner} is missing")
            chunks.append(data)
        return chunks


async def _keep_session(_connection: Any) -> None:
    """No reset query when a connection goes back to the pool: the store changes no session
    state (its one setting lasts a transaction), and asyncpg still rolls back an open one."""


def _lease(staged: StagedBlob) -> _Lease:
    lease = staged.lease
    assert isinstance(lease, _Lease), "a blob staged by another store"
    return lease
