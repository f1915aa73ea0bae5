"""Progress callbacks count file bytes, so a bar over the file's size ends at 100 %, not past it."""

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncSession

from tests.e2e.server import Server
from tests.library.test_client import _GROUPS, MIB, _file, _group, _lib

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("size", [128, 2 * MIB + 77])
async def test_upload_and_download_progress_add_up_to_the_file_size(
    client: httpx.AsyncClient,
    session: AsyncSession,
    live_server: Server,
    tmp_path: Path,
    size: int,
):
    """A 128-byte file once showed `144/128 bytes`: every segment's tag was counted."""
    g = await _group(client, session)
    source = _file(tmp_path / "note.pdf", size)
    sent: list[int] = []
    published = await asyncio.to_thread(
        _lib(live_server, g.coordinator, Ed25519PrivateKey.generate()).publish,
        uuid.UUID(g.group_id),
        source,
        category="analysis_report",
        progress=sent.append,
    )
    received: list[int] = []
    out = tmp_path / "out"
    out.mkdir()
    await asyncio.to_thread(
        _lib(live_server, g.member, Ed25519PrivateKey.generate()).download,
        uuid.UUID(g.group_id),
        published.document_id,
        1,
        key=published.key,
        roster=_GROUPS["current"],
        dest=out,
        progress=received.append,
    )
    assert sum(sent) == size
    assert sum(received) == size
