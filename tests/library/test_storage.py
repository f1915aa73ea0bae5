"""The filesystem blob store: segments written in place and hashed as they arrive, published
by one rename, never visible early and never written after publication."""

import asyncio
import hashlib
import os
import uuid
from pathlib import Path

from app.library.storage import FilesystemBlobStore, SegmentOutcome

SEG = 1000


def _segments(n: int, last: int = 300) -> list[bytes]:
    return [os.urandom(SEG) for _ in range(n - 1)] + [os.urandom(last)]


async def _store_all(store: FilesystemBlobStore, upload_id: uuid.UUID, segs: list[bytes], order):
    for i in order:
        outcome = await store.put_segment(upload_id, i, i * SEG, [segs[i]])
        assert outcome is SegmentOutcome.STORED


def _published(root: Path) -> list[Path]:
    return [p for p in (root / "sha256").rglob("*") if p.is_file()]


async def _opened(root: Path, n: int) -> tuple[FilesystemBlobStore, uuid.UUID, list[bytes]]:
    """A store under `root` with a fresh upload opened, and `n` segments to send to it."""
    store = FilesystemBlobStore(root)
    upload_id = uuid.uuid4()
    await store.open_upload(upload_id)
    return store, upload_id, _segments(n)


async def _stages_to(store: FilesystemBlobStore, upload_id: uuid.UUID, segs: list[bytes]) -> None:
    """Staging hashes exactly the concatenated segments (the stage is released afterwards)."""
    staged = await store.stage(upload_id)
    assert staged is not None and staged.sha256_hex == hashlib.sha256(b"".join(segs)).hexdigest()
    await store.discard(staged)


async def _blocked_on_flock(path: Path) -> None:
    """Wait until some process or thread waits for a `flock` on `path` (Linux lists blocked
    lock requests in /proc/locks with "->"); a bound against hanging, not a speed check."""
    inode = f":{os.stat(path).st_ino} "
    async with asyncio.timeout(10):
        while not any(
            "->" in line and "FLOCK" in line and inode in line
            for line in Path("/proc/locks").read_text().splitlines()
        ):
            await asyncio.sleep(0.01)


async def test_out_of_order_segments_hash_and_publish_whole(tmp_path: Path):
    """Segments stored in any order (and split into parts) assemble to the right digest, and
    nothing is visible under sha256/ until publish."""
    store, upload_id, segs = await _opened(tmp_path, 6)
    await _store_all(store, upload_id, segs, [1, 0, 2])
    parts = [segs[4][:10], memoryview(segs[4])[10:]]
    assert await store.put_segment(upload_id, 4, 4 * SEG, parts) is SegmentOutcome.STORED
    await _store_all(store, upload_id, segs, [5, 3])
    assert await store.segment_sizes(upload_id) == {i: len(s) for i, s in enumerate(segs)}
    staged = await store.stage(upload_id)
    assert staged is not None
    whole = b"".join(segs)
    assert (staged.sha256_hex, staged.size) == (hashlib.sha256(whole).hexdigest(), len(whole))
    assert _published(tmp_path) == []
    await store.publish(staged)
    await store.discard(staged)
    assert [p.name for p in _published(tmp_path)] == [staged.sha256_hex]
    assert _published(tmp_path)[0].read_bytes() == whole


async def test_retries_are_idempotent_and_different_bytes_conflict(tmp_path: Path):
    """The same bytes again are a no-op; other bytes (or another length) are refused and the
    stored segment is untouched."""
    store, upload_id, segs = await _opened(tmp_path, 2)
    await _store_all(store, upload_id, segs, [0, 1])
    assert await store.put_segment(upload_id, 0, 0, [segs[0]]) is SegmentOutcome.DUPLICATE
    forged = bytes([segs[0][0] ^ 1]) + segs[0][1:]
    assert await store.put_segment(upload_id, 0, 0, [forged]) is SegmentOutcome.CONFLICT
    assert await store.put_segment(upload_id, 1, SEG, [segs[1][:-1]]) is SegmentOutcome.CONFLICT
    await _stages_to(store, upload_id, segs)


async def test_another_process_rehashes_from_disk(tmp_path: Path):
    """A store without the running hash (another worker, a restart) still stages correctly."""
    upload_id = uuid.uuid4()
    first = FilesystemBlobStore(tmp_path)
    await first.open_upload(upload_id)
    segs = _segments(5)
    await _store_all(first, upload_id, segs, [0, 1])
    second = FilesystemBlobStore(tmp_path)
    await _store_all(second, upload_id, segs, [3, 2, 4])
    await _stages_to(first, upload_id, segs)
    await _stages_to(FilesystemBlobStore(tmp_path), upload_id, segs)


async def test_no_write_reaches_a_published_blob(tmp_path: Path):
    """Once published, the upload is gone for writers: a late re-PUT cannot alter the blob."""
    store, upload_id, segs = await _opened(tmp_path, 2)
    await _store_all(store, upload_id, segs, [0, 1])
    staged = await store.stage(upload_id)
    assert staged is not None
    await store.publish(staged)
    await store.discard(staged)
    forged = bytes(len(segs[0]))
    assert await store.put_segment(upload_id, 0, 0, [forged]) is SegmentOutcome.GONE
    assert await store.stage(upload_id) is None
    assert _published(tmp_path)[0].read_bytes() == b"".join(segs)
    await store.drop_upload(upload_id)
    assert await store.put_segment(upload_id, 0, 0, [segs[0]]) is SegmentOutcome.GONE
    assert not (tmp_path / "uploads" / str(upload_id)).exists()


async def test_a_torn_journal_record_does_not_count(tmp_path: Path):
    """A crash mid-record leaves a partial entry that is ignored (so the segment is resent)
    and overwritten by the next record."""
    store, upload_id, segs = await _opened(tmp_path, 2)
    await _store_all(store, upload_id, segs, [0])
    with (tmp_path / "uploads" / str(upload_id) / "segments").open("ab") as journal:
        journal.write(b"\0\0\0\1\0")
    assert await store.segment_sizes(upload_id) == {0: SEG}
    await _store_all(store, upload_id, segs, [1])
    assert await store.segment_sizes(upload_id) == {0: SEG, 1: len(segs[1])}
    await _stages_to(store, upload_id, segs)


async def test_a_writer_waiting_on_finalise_finds_the_upload_gone(tmp_path: Path):
    """A PUT that opened the data file while finalise held the lock must not write into the
    file once it has been renamed into the published blob."""
    store, upload_id, segs = await _opened(tmp_path, 3)
    await _store_all(store, upload_id, segs, [0, 1])
    staged = await store.stage(upload_id)
    assert staged is not None
    late = asyncio.create_task(store.put_segment(upload_id, 2, 2 * SEG, [segs[2]]))
    await _blocked_on_flock(staged.path)  # the writer opened the file and waits for the lock
    assert not late.done()
    await store.publish(staged)
    await store.discard(staged)
    assert await late is SegmentOutcome.GONE
    assert _published(tmp_path)[0].read_bytes() == b"".join(segs[:2])
