"""Two server processes and one library: a document published through one is downloaded
through the other byte for byte (PostgreSQL store), and a process whose blob store lacks the
blob says so with a 503 problem before any byte of a body."""

import asyncio
import hashlib
import os
import uuid
from pathlib import Path

import httpx
import pytest
from cordon_client.crypto import Roster
from cordon_client.library.client import LibraryClient, Published
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.databases import postgres_server_url
from tests.e2e.server import Server, running
from tests.library.helpers import coordinator_roster

pytestmark = pytest.mark.e2e
MIB = 1024 * 1024


def _file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _publish(server: Server, g: f.GroupSetup, roster: Roster, source: Path) -> Published:
    """Published by the coordinator's device, signed at the head of its verified log."""
    assert g.coordinator.signing_key is not None
    with httpx.Client(base_url=server.base, headers=g.coordinator.headers, timeout=60) as http:
        lib = LibraryClient(
            http,
            device_id=uuid.UUID(g.coordinator.device_id),
            signing_key=g.coordinator.signing_key,
            segments_per_put=2,
            epoch_id=roster.epoch_id,
        )
        return await asyncio.to_thread(
            lib.publish, uuid.UUID(g.group_id), source, category="training"
        )


@pytest.mark.postgres
@pytest.mark.skipif(not postgres_server_url(), reason="CORDON_TEST_DATABASE_URL not set")
async def test_published_through_one_process_downloads_whole_through_another(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession, tmp_path: Path
):
    """No `CORDON_BLOB_DIR`, PostgreSQL: the blobs live in the database both processes share,
    not under either one's working directory (here, two different ones)."""
    g = await f.group_with_roles(client, session)
    roster = coordinator_roster(g.group_id, g.coordinator, g.member)
    source = _file(tmp_path / "manual.pdf", 5 * MIB + 4321)
    homes = [tmp_path / "a", tmp_path / "b"]
    for home in homes:
        home.mkdir()
    with running(database_url, cwd=homes[0]) as a, running(database_url, cwd=homes[1]) as b:
        published = await _publish(a, g, roster, source)
        with httpx.Client(base_url=b.base, headers=g.member.headers, timeout=60) as http:
            got = await asyncio.to_thread(
                LibraryClient(http).download,
                uuid.UUID(g.group_id),
                published.document_id,
                1,
                key=published.key,
                roster=roster,
                dest=tmp_path / "copy.pdf",
            )
        assert _sha256(got.path) == _sha256(source)
        async with httpx.AsyncClient(base_url=b.base, headers=g.member.headers) as http:
            url = f"/api/v1/groups/{g.group_id}/library/documents/{published.document_id}"
            whole = await http.get(f"{url}/versions/1/content")
            part = await http.get(f"{url}/versions/1/content", headers={"Range": "bytes=1048570-"})
        assert whole.status_code == 200 and part.status_code == 206
        assert part.content == whole.content[1048570:]
    assert [list(home.iterdir()) for home in homes] == [[], []]


async def test_a_process_without_the_blob_answers_503_before_the_status_line(
    database_url: str, client: httpx.AsyncClient, session: AsyncSession, tmp_path: Path
):
    """Two processes with different `CORDON_BLOB_DIR`s (a misconfiguration): the second
    cannot find the blob, and answers a problem document instead of a truncated 200."""
    g = await f.group_with_roles(client, session)
    roster = coordinator_roster(g.group_id, g.coordinator, g.member)
    source = _file(tmp_path / "report.bin", 2 * MIB + 7)
    with (
        running(database_url, CORDON_BLOB_DIR=str(tmp_path / "a")) as a,
        running(database_url, CORDON_BLOB_DIR=str(tmp_path / "b")) as b,
    ):
        published = await _publish(a, g, roster, source)
        url = (
            f"/api/v1/groups/{g.group_id}/library/documents/{published.document_id}"
            "/versions/1/content"
        )
        async with httpx.AsyncClient(base_url=b.base, headers=g.member.headers) as http:
            for headers in ({}, {"Range": "bytes=0-99"}):
                r = await http.get(url, headers=headers)
                assert r.status_code == 503, r.status_code
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["code"] == "library.blob_unavailable"
        async with httpx.AsyncClient(base_url=a.base, headers=g.member.headers) as http:
            assert (await http.get(url)).status_code == 200
