"""The Python client against a real uvicorn: large round trip, resume, and refusals that
must leave nothing under the final file name."""

import asyncio
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cordon_client.crypto import Roster
from cordon_client.exceptions import ApiError, DecryptionError, TruncatedError
from cordon_client.library.client import LibraryClient, PendingUpload, Published
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.server import Server
from tests.library import helpers as h

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


def _file(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        for _ in range(size // MIB):
            fh.write(os.urandom(MIB))
        fh.write(os.urandom(size % MIB))
    return path


def _digest(path: Path) -> bytes:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").digest()


class FlakyTransport(httpx.BaseTransport):
    """Drops every segment PUT after the first `allowed`, as a dead link would."""

    def __init__(self, allowed: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.allowed = allowed
        self.puts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            if len(self.puts) >= self.allowed:
                raise httpx.ConnectError("link down", request=request)
            self.puts.append(request.url.path.rsplit("/", 1)[1])
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _lib(
    live: Server,
    who: f.Actor,
    key: Ed25519PrivateKey,
    transport: httpx.BaseTransport | None = None,
    segments_per_put: int = 1,
) -> LibraryClient:
    http = httpx.Client(base_url=live.base, headers=who.headers, timeout=60, transport=transport)
    _OPEN.append(http)
    assert who.signing_key is not None
    return LibraryClient(
        http,
        device_id=uuid.UUID(who.device_id),
        signing_key=who.signing_key,
        segments_per_put=segments_per_put,
        epoch_id=_GROUPS["current"].epoch_id,
    )


_GROUPS: dict[str, Roster] = {}  # the verified log of the group under test (set by `_group`)


async def _group(client: httpx.AsyncClient, session: AsyncSession) -> f.GroupSetup:
    g = await f.group_with_roles(client, session)
    _GROUPS["current"] = h.coordinator_roster(g.group_id, g.coordinator, g.member)
    return g


async def _assert_member_downloads(
    live: Server,
    g: f.GroupSetup,
    key: Ed25519PrivateKey,
    published: Published,
    source: Path,
    dest: Path,
) -> None:
    """A member downloads version 1 of the published document, byte-equal to `source`."""
    got = await asyncio.to_thread(
        _lib(live, g.member, key).download,
        uuid.UUID(g.group_id),
        published.document_id,
        1,
        key=published.key,
        roster=_GROUPS["current"],
        dest=dest,
    )
    assert _digest(got.path) == _digest(source)


async def test_large_file_round_trip(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """A 24 MiB file in 1 MiB segments goes up and comes back bit for bit, verified."""
    g = await _group(client, session)
    key = Ed25519PrivateKey.generate()
    source = _file(tmp_path / "scan.tiff", 24 * MIB + 12345)
    publisher = _lib(live_server, g.coordinator, key)
    published = await asyncio.to_thread(
        publisher.publish, uuid.UUID(g.group_id), source, category="analysis_report"
    )
    reader = _lib(live_server, g.member, Ed25519PrivateKey.generate())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    got = await asyncio.to_thread(
        reader.download,
        uuid.UUID(g.group_id),
        published.document_id,
        1,
        key=published.key,
        roster=_GROUPS["current"],
        dest=out_dir,
    )
    assert got.name == "scan.tiff" and got.media_type == "image/tiff"
    assert _digest(got.path) == _digest(source) and list(out_dir.iterdir()) == [got.path]


async def test_interrupted_upload_resumes(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """After the link dies mid-upload, `send` again sends only the missing segments."""
    g = await _group(client, session)
    key = Ed25519PrivateKey.generate()
    source = _file(tmp_path / "video.mp4", 6 * MIB + 7)
    flaky = FlakyTransport(allowed=3)
    lib = _lib(live_server, g.coordinator, key, flaky)
    pending: PendingUpload = await asyncio.to_thread(
        lib.prepare, uuid.UUID(g.group_id), source, category="training"
    )
    with pytest.raises(httpx.ConnectError):
        await asyncio.to_thread(lib.send, pending)
    assert flaky.puts == ["0", "1", "2"]
    flaky.allowed = 100
    published = await asyncio.to_thread(lib.send, pending)
    assert flaky.puts == ["0", "1", "2", "3", "4", "5", "6"]
    await _assert_member_downloads(live_server, g, key, published, source, tmp_path / "copy.mp4")


async def test_batched_upload_resumes_per_segment(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """Segments sent several to a request resume from the first missing one after a drop,
    and the published file is intact."""
    g = await _group(client, session)
    key = Ed25519PrivateKey.generate()
    source = _file(tmp_path / "scans.zip", 6 * MIB + 7)
    flaky = FlakyTransport(allowed=1)
    lib = _lib(live_server, g.coordinator, key, flaky, segments_per_put=3)
    pending = await asyncio.to_thread(lib.prepare, uuid.UUID(g.group_id), source, category="other")
    with pytest.raises(httpx.ConnectError):
        await asyncio.to_thread(lib.send, pending)
    flaky.allowed = 100
    published = await asyncio.to_thread(lib.send, pending)
    assert sorted(flaky.puts, key=int) == ["0", "3", "6"]
    await _assert_member_downloads(live_server, g, key, published, source, tmp_path / "copy.zip")


async def test_body_cut_mid_segment_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """A segment whose body is cut off is not stored; the retry then succeeds."""
    g = await _group(client, session)
    key = Ed25519PrivateKey.generate()
    source = _file(tmp_path / "doc.bin", 2 * MIB)
    lib = _lib(live_server, g.coordinator, key)
    pending = await asyncio.to_thread(lib.prepare, uuid.UUID(g.group_id), source, category="other")

    def cut_body() -> None:
        def body():  # half a segment, then the connection dies
            yield b"\0" * (512 * 1024)
            raise OSError("cable pulled")

        with httpx.Client(base_url=live_server.base, headers=g.coordinator.headers) as http:
            with pytest.raises((OSError, httpx.TransportError)):
                http.put(f"/api/v1/library/segments/{pending.upload_id}/0", content=body())

    await asyncio.to_thread(cut_body)
    status = await client.get(
        f"/api/v1/library/uploads/{pending.upload_id}", headers=g.coordinator.headers
    )
    assert status.json()["received"] == []
    published = await asyncio.to_thread(lib.send, pending)
    assert published.version == 1


async def test_changed_file_on_resume_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """Resuming with different content is refused segment by segment, nothing published."""
    g = await _group(client, session)
    source = _file(tmp_path / "a.bin", 3 * MIB)
    flaky = FlakyTransport(allowed=2)
    lib = _lib(live_server, g.coordinator, Ed25519PrivateKey.generate(), flaky)
    pending = await asyncio.to_thread(lib.prepare, uuid.UUID(g.group_id), source, category="other")
    with pytest.raises(httpx.ConnectError):
        await asyncio.to_thread(lib.send, pending)
    _file(source, 3 * MIB)
    flaky.allowed = 100
    lib2 = _lib(live_server, g.coordinator, Ed25519PrivateKey.generate())
    # the received segments are skipped, so the mismatch surfaces as a hash mismatch
    with pytest.raises(ApiError) as err:
        await asyncio.to_thread(lib2.send, pending)
    assert err.value.code == "library.hash_mismatch"


def _serve(enc_segments: list[bytes], version_json: dict) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/content"):
            return httpx.Response(200, content=b"".join(enc_segments))
        return httpx.Response(200, json=version_json)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("attack", ["flip", "truncate", "reorder", "append"])
def test_tampered_downloads_leave_no_file(tmp_path: Path, attack: str):
    """Altered, cut, reordered or extended ciphertext fails and the destination never appears."""
    group_id = str(uuid.uuid4())
    data = os.urandom(3 * 64 * 1024 + 99)
    device_id, signing = uuid.uuid4(), Ed25519PrivateKey.generate()
    roster = h.roster_of(group_id, (uuid.uuid4(), device_id, signing))
    enc = h.encrypt(
        group_id,
        data,
        device_id=str(device_id),
        signing=signing,
        epoch_id=roster.epoch_id,
    )
    segs = list(enc.segments)
    if attack == "flip":
        segs[1] = bytes([segs[1][0] ^ 1]) + segs[1][1:]
    elif attack == "truncate":
        segs = segs[:-1]
    elif attack == "reorder":
        segs[0], segs[1] = segs[1], segs[0]
    else:
        segs.append(segs[-1])
    version_json = {
        "document_id": str(enc.document_id),
        "version": 1,
        "size": enc.size,
        "segment_size": enc.manifest.segment_size,
        "segment_count": len(enc.segments),
        "sha256": enc.sha256,
        "manifest": f.b64(enc.manifest.to_bytes()),
        "publisher_device_id": None,
        "published_at": "2026-01-01T00:00:00+00:00",
    }
    http = httpx.Client(base_url="http://x", transport=_serve(segs, version_json))
    _OPEN.append(http)
    lib = LibraryClient(http)
    dest = tmp_path / "report.pdf"
    expected = TruncatedError if attack == "truncate" else DecryptionError
    with pytest.raises(expected):
        lib.download(
            uuid.UUID(group_id),
            enc.document_id,
            1,
            key=enc.key,
            roster=roster,
            dest=dest,
        )
    assert list(tmp_path.iterdir()) == []


class MidBodyDrop(httpx.BaseTransport):
    """Kills the first segment PUT after one segment of its streamed body has gone out."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.dropped = False
        self.puts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            if not self.dropped:
                self.dropped = True
                next(iter(request.stream))
                raise httpx.ReadError("connection reset", request=request)
            self.puts.append(request.url.path.rsplit("/", 1)[1])
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


async def test_streamed_batch_dropped_mid_body_is_resent(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """A batch whose streamed body dies part-way is re-encrypted from the file and sent again
    whole, while the segments after it keep flowing; the result is intact."""
    g = await _group(client, session)
    key = Ed25519PrivateKey.generate()
    source = _file(tmp_path / "maps.pdf", 6 * MIB + 7)
    drop = MidBodyDrop()
    lib = _lib(live_server, g.coordinator, key, drop, segments_per_put=4)
    published = await asyncio.to_thread(
        lib.publish, uuid.UUID(g.group_id), source, category="training"
    )
    assert drop.dropped and sorted(drop.puts, key=int) == ["0", "4"]
    await _assert_member_downloads(live_server, g, key, published, source, tmp_path / "copy.pdf")


async def test_file_shrunk_before_send_fails_without_hanging(
    client: httpx.AsyncClient, session: AsyncSession, live_server: Server, tmp_path: Path
):
    """If the file ends before a streamed batch is complete, `send` raises instead of leaving
    the PUT waiting for segments that never come, and nothing is published."""
    g = await _group(client, session)
    source = _file(tmp_path / "log.txt", 6 * MIB)
    lib = _lib(live_server, g.coordinator, Ed25519PrivateKey.generate(), segments_per_put=4)
    pending = await asyncio.to_thread(lib.prepare, uuid.UUID(g.group_id), source, category="other")
    with source.open("r+b") as fh:
        fh.truncate(3 * MIB)
    with pytest.raises(ValueError, match="changed size"):
        await asyncio.wait_for(asyncio.to_thread(lib.send, pending), timeout=60)
    listed = await client.get(
        f"/api/v1/groups/{g.group_id}/library/documents", headers=g.member.headers
    )
    assert listed.json()["items"] == []
