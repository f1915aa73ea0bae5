"""The PostgreSQL blob store on a real PostgreSQL: segments in any order hash and publish
whole, retries are idempotent, nothing is written after publication, another process's store
sees the same blob, and a byte range reads only its bytes."""

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from app.library.pg_storage import PREFETCH, READ_BATCH, PostgresBlobStore
from app.library.storage import SegmentOutcome
from tests.databases import postgres_server_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not postgres_server_url(), reason="CORDON_TEST_DATABASE_URL not set"),
]
SEG = 1000


def _segments(n: int, last: int = 300) -> list[bytes]:
    return [os.urandom(SEG) for _ in range(n - 1)] + [os.urandom(last)]


async def _store_all(
    store: PostgresBlobStore, upload_id: uuid.UUID, segs: list[bytes], order: list[int]
) -> None:
    for i in order:
        outcome = await store.put_segment(upload_id, i, i * SEG, [segs[i]])
        assert outcome is SegmentOutcome.STORED


_made: list[PostgresBlobStore] = []


def _new_store(app: FastAPI) -> PostgresBlobStore:
    _made.append(PostgresBlobStore(app.state.engine))
    return _made[-1]


@pytest.fixture(autouse=True)
async def _close_stores() -> AsyncIterator[None]:
    yield
    while _made:
        await _made.pop().aclose()


async def _opened(app: FastAPI, n: int) -> tuple[PostgresBlobStore, uuid.UUID, list[bytes]]:
    store = _new_store(app)
    upload_id = uuid.uuid4()
    await store.open_upload(upload_id)
    return store, upload_id, _segments(n)


async def _read(store: PostgresBlobStore, digest: str, start: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in store.read(digest, start, end)])


async def _publish(store: PostgresBlobStore, upload_id: uuid.UUID) -> str:
    staged = await store.stage(upload_id)
    assert staged is not None
    try:
        await store.publish(staged)
    finally:
        await store.discard(staged)
    await store.drop_upload(upload_id)  # as the service does after publishing
    return staged.sha256_hex


async def test_out_of_order_segments_hash_publish_and_read_back(app: FastAPI):
    """Segments stored in any order (and in parts) stage to the digest of their
    concatenation; the blob is absent until published, then whole and readable by range."""
    store, upload_id, segs = await _opened(app, 6)
    await _store_all(store, upload_id, segs, [1, 0, 2])
    parts = [segs[4][:10], memoryview(segs[4])[10:]]
    assert await store.put_segment(upload_id, 4, 4 * SEG, parts) is SegmentOutcome.STORED
    await _store_all(store, upload_id, segs, [5, 3])
    assert await store.segment_sizes(upload_id) == {i: len(s) for i, s in enumerate(segs)}
    whole = b"".join(segs)
    digest = hashlib.sha256(whole).hexdigest()
    assert await store.size(digest) is None
    assert await _publish(store, upload_id) == digest
    assert await store.size(digest) == len(whole)
    assert await _read(store, digest, 0, len(whole)) == whole
    for start, end in [(0, 1), (999, 1001), (1500, 4200), (len(whole) - 5, len(whole))]:
        assert await _read(store, digest, start, end) == whole[start:end]


async def test_retries_are_idempotent_and_different_bytes_conflict(app: FastAPI):
    store, upload_id, segs = await _opened(app, 2)
    await _store_all(store, upload_id, segs, [0, 1])
    assert await store.put_segment(upload_id, 0, 0, [segs[0]]) is SegmentOutcome.DUPLICATE
    forged = bytes([segs[0][0] ^ 1]) + segs[0][1:]
    assert await store.put_segment(upload_id, 0, 0, [forged]) is SegmentOutcome.CONFLICT
    assert await store.put_segment(upload_id, 1, SEG, [segs[1][:-1]]) is SegmentOutcome.CONFLICT
    assert await _publish(store, upload_id) == hashlib.sha256(b"".join(segs)).hexdigest()


async def test_another_process_stores_and_stages_the_same_upload(app: FastAPI):
    """Stores without each other's running hash (two processes) see one upload and one
    blob: what one writes, the other stages and reads."""
    first, upload_id, segs = await _opened(app, 5)
    await _store_all(first, upload_id, segs, [0, 1])
    second = _new_store(app)
    await _store_all(second, upload_id, segs, [3, 2, 4])
    digest = await _publish(second, upload_id)
    assert await _read(first, digest, 0, 4 * SEG + 300) == b"".join(segs)


async def test_no_write_reaches_a_published_blob(app: FastAPI):
    """Once published the upload is gone for writers, and dropping it keeps the blob."""
    store, upload_id, segs = await _opened(app, 2)
    await _store_all(store, upload_id, segs, [0, 1])
    staged = await store.stage(upload_id)
    assert staged is not None
    late = asyncio.create_task(store.put_segment(upload_id, 0, 0, [bytes(SEG)]))
    await asyncio.sleep(0.2)
    assert not late.done()  # waits for the staging lock
    await store.publish(staged)
    await store.discard(staged)
    assert await late is SegmentOutcome.GONE
    assert await store.stage(upload_id) is None
    await store.drop_upload(upload_id)
    whole = b"".join(segs)
    assert await _read(store, staged.sha256_hex, 0, len(whole)) == whole


async def test_a_discarded_stage_keeps_the_upload_and_a_drop_removes_it(app: FastAPI):
    store, upload_id, segs = await _opened(app, 3)
    await _store_all(store, upload_id, segs, [0, 1])
    staged = await store.stage(upload_id)
    assert staged is not None
    await store.discard(staged)
    await _store_all(store, upload_id, segs, [2])
    await store.drop_upload(upload_id)
    assert await store.segment_sizes(upload_id) == {}
    assert await store.put_segment(upload_id, 0, 0, [segs[0]]) is SegmentOutcome.GONE


async def test_the_same_blob_published_twice_keeps_one_copy(app: FastAPI):
    store, first, segs = await _opened(app, 2)
    await _store_all(store, first, segs, [0, 1])
    digest = await _publish(store, first)
    second = uuid.uuid4()
    await store.open_upload(second)
    await _store_all(store, second, segs, [1, 0])
    assert await _publish(store, second) == digest
    assert await store.segment_sizes(second) == {}
    assert await _read(store, digest, 0, SEG + 300) == b"".join(segs)


async def test_a_missing_segment_makes_the_blob_absent(app: FastAPI):
    """A blob with a segment gone is reported absent, so a download refuses before its
    status line instead of sending a truncated body."""
    store, upload_id, segs = await _opened(app, 3)
    await _store_all(store, upload_id, segs, [0, 1, 2])
    digest = await _publish(store, upload_id)
    async with app.state.engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("DELETE FROM blob_segment WHERE owner = $1 AND idx = 1", upload_id)
    assert await store.size(digest) is None
    with pytest.raises(FileNotFoundError):
        await _read(store, digest, 0, 2 * SEG + 300)


async def test_a_reader_that_stops_early_gives_every_connection_back(app: FastAPI):
    """A download streams batch after batch with fetches ahead of it; one that stops after
    its first chunk cancels those fetches and leaves no connection checked out."""
    n = READ_BATCH * (PREFETCH + 2) + 1
    store, upload_id, segs = await _opened(app, n)
    await _store_all(store, upload_id, segs, list(range(n)))
    digest = await _publish(store, upload_id)
    whole = b"".join(segs)
    assert await _read(store, digest, 0, len(whole)) == whole
    assert await _read(store, digest, 5, len(whole) - 5) == whole[5:-5]
    reader = store.read(digest, 0, len(whole))
    assert await anext(reader) == segs[0]
    await reader.aclose()
    pool = await store._blob_pool()
    assert pool.get_size() > 1
    assert pool.get_idle_size() == pool.get_size()


async def test_connections_the_server_closed_are_replaced(app: FastAPI):
    """Without a pre-ping, a connection PostgreSQL terminated (a restart, an operator) is
    replaced: writes and reads after it succeed, the segment written before it is kept."""
    store, upload_id, segs = await _opened(app, 3)
    await _store_all(store, upload_id, segs, [0])
    async with app.state.engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        killed = await raw.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = 'cordon-blob-store'"
        )
    assert killed >= 1
    await _store_all(store, upload_id, segs, [1, 2])
    assert await store.put_segment(upload_id, 0, 0, [segs[0]]) is SegmentOutcome.DUPLICATE
    digest = await _publish(store, upload_id)
    assert await _read(store, digest, 0, 2 * SEG + 300) == b"".join(segs)
