"""`cordon library publish / get / withdraw` typed as a person types them, interrupted for
real: the installed `cordon` executable is SIGKILLed mid-transfer and typed again.

The server is a real uvicorn with a filesystem blob store of its own (`CORDON_BLOB_DIR`), so
a test can also damage a stored blob the way a compromised server would. What the server
acknowledged is read through the API (`GET /api/v1/library/uploads/{id}`), with the upload id
and token the interrupted CLI left in its (passphrase-encrypted) keystore.
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cordon_client._client import Cordon
from cordon_client.account.state import LocalState
from cordon_client.library.resume import UploadRecord
from sqlalchemy.ext.asyncio import AsyncSession

from tests import factories as f
from tests.e2e.joining import PASSPHRASE, admit, opened_group
from tests.e2e.server import Server, running

pytestmark = pytest.mark.e2e
CORDON = str(Path(sys.executable).with_name("cordon"))
MIB = 1024 * 1024
SIZE = 8 * MIB + 1234  # nine 1 MiB STREAM segments, the last one short
SEGMENTS = 9


@pytest.fixture(scope="module")
def blob_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    blobs = tmp_path_factory.mktemp("blobs")
    with running(database_url, CORDON_BLOB_DIR=str(blobs)) as server:
        server.blob_dir = blobs  # type: ignore[attr-defined]
        yield server


def _env(fake_home: Path) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("CORDON_")} | {
        "HOME": str(fake_home),
        "CORDON_PASSPHRASE": PASSPHRASE,
        "COLUMNS": "200",
    }


@dataclass
class Typed:
    code: int
    output: str


def _typed(fake_home: Path, *args: str, ok: bool = True) -> Typed:
    """`cordon ARGS` in its own process, as typed; stdout and stderr together."""
    done = subprocess.run(
        [CORDON, *args],
        capture_output=True,
        text=True,
        env=_env(fake_home),
        timeout=180,
        start_new_session=True,
    )
    result = Typed(done.returncode, done.stdout + done.stderr)
    if ok:
        assert done.returncode == 0, (args, result.output)
    assert "Traceback" not in result.output, result.output
    return result


def _started(fake_home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CORDON, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(fake_home),
        start_new_session=True,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: nothing of the CLI's own cleanup runs."""
    assert process.poll() is None, "the transfer finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def _wait_for(what: str, check, timeout: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _open_upload(home: Path) -> tuple[uuid.UUID, str] | None:
    """The upload the CLI recorded in its keystore, and its token (None before it did)."""
    state = LocalState(home, PASSPHRASE)
    uploads = [v for k, v in state.keystore.secrets.items() if k.startswith("upload:")]  # type: ignore[union-attr]
    if not uploads:
        return None
    return UploadRecord.from_bytes(uploads[0]).upload_id, state.token or ""


def _acknowledged(server: Server, upload_id: uuid.UUID, token: str) -> set[int]:
    """The segments the server says it holds, through the API."""
    response = httpx.get(
        f"{server.base}/api/v1/library/uploads/{upload_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return {i for start, end in response.json()["received"] for i in range(start, end)}


def _interrupted_upload(
    server: Server,
    fake_home: Path,
    who: tuple[str, ...],
    publish: tuple[str, ...],
    home: Path,
    segments: int,
) -> tuple[uuid.UUID, str]:
    """`cordon … library publish` at 1 MiB/s, SIGKILLed once the server acknowledged
    `segments` segments; the upload id and token it left in its keystore."""
    uploading = _started(fake_home, *who, *publish, "--limit-rate", "1M")
    upload_id, token = _wait_for("the upload record", lambda: _open_upload(home))
    _wait_for(
        f"{segments} acknowledged segment(s)",
        lambda: len(_acknowledged(server, upload_id, token)) >= segments or None,
    )
    _kill(uploading)
    return upload_id, token


async def _group(blob_server: Server, session: AsyncSession, tmp_path: Path) -> tuple:
    """A coordinator and a member, both logged in under CLI homes; set up through the SDK."""
    admin = await f.user(session, admin=True, totp=True)
    coord = await f.user(session, totp=True)
    member_u, _ = await f.user(session)
    coord_home, member_home = tmp_path / "coord", tmp_path / "member"
    name = f"Transfers {uuid.uuid4().hex[:6]}"
    gid, code = await opened_group(blob_server.base, tmp_path, admin, coord, name)
    async with (
        Cordon(coord_home, PASSPHRASE, server=blob_server.base) as coordinator,
        Cordon(member_home, PASSPHRASE, server=blob_server.base, scrypt_n=2**14) as member,
    ):
        await member.login(member_u.username, f.PASSWORD)
        await admit(coordinator, member, gid, member_u.username)
        await member.join_group(gid, expected_fingerprint=code)
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    c = ("--server", blob_server.base, "--home", str(coord_home))
    m = ("--server", blob_server.base, "--home", str(member_home))
    return gid, c, m, coord_home, fake_home


def _bar_full(output: str, label: str) -> None:
    """The progress bar's last frame reads `done/total` with the two equal (it once counted
    ciphertext against the plaintext size: `144/128 bytes`)."""
    found = re.search(rf"{label}\b.*?([\d.]+)/([\d.]+) (bytes|[kMG]B)", output)
    assert found is not None, output
    assert found.group(1) == found.group(2), found.group(0)


def _published(output: str) -> str:
    found = re.search(r"published ([0-9a-f-]{36}) version 1", output)
    assert found is not None, output
    return found.group(1)


async def test_publish_and_get_resume_after_the_cli_is_killed(
    blob_server: Server, session: AsyncSession, tmp_path: Path
):
    """An upload SIGKILLed after 3+ acknowledged segments continues on the next run with only
    the missing ones; a download SIGKILLed mid-way continues with a Range; both are
    byte-identical, and the state of each is gone once done."""
    gid, c, m, coord_home, fake_home = await _group(blob_server, session, tmp_path)
    report = tmp_path / "seizure-analysis.pdf"
    report.write_bytes(os.urandom(SIZE))
    publish = ("library", "publish", str(gid), str(report), "--category", "analysis_report")

    def flow() -> None:
        upload_id, token = _interrupted_upload(blob_server, fake_home, c, publish, coord_home, 3)
        acknowledged = _acknowledged(blob_server, upload_id, token)
        assert 3 <= len(acknowledged) < SEGMENTS

        resumed = _typed(fake_home, *c, *publish).output
        assert (
            f"resuming the interrupted upload: {len(acknowledged)} of {SEGMENTS} segments "
            "are already on the server"
        ) in resumed, resumed
        _bar_full(resumed, "upload")
        doc = _published(resumed)
        assert _open_upload(coord_home) is None  # the keystore record is gone once published

        out = tmp_path / "downloads"
        out.mkdir()
        get = ("library", "get", str(gid), doc, "--out", str(out))
        part = out / f".{report.name}.{doc}.v1.part"
        downloading = _started(fake_home, *m, *get, "--limit-rate", "1M")
        _wait_for(
            "three verified segments in the partial file",
            lambda: part.exists() and part.stat().st_size >= 3 * MIB or None,
        )
        _kill(downloading)
        held = part.stat().st_size // MIB
        assert not (out / report.name).exists()  # a partial download is never the document

        got = _typed(fake_home, *m, *get).output
        assert f"resuming the download: {held} of {SEGMENTS} segments" in got, got
        assert "verified and saved" in got, got
        _bar_full(got, "download")
        assert (out / report.name).read_bytes() == report.read_bytes()
        assert not part.exists()

    await asyncio.to_thread(flow)


async def test_a_changed_file_starts_over_and_a_tampered_segment_is_refused(
    blob_server: Server, session: AsyncSession, tmp_path: Path
):
    """Re-running publish after the file changed abandons the old upload and publishes the new
    content; a segment flipped in the server's blob store is refused by name and nothing is
    saved under the document's name."""
    gid, c, m, coord_home, fake_home = await _group(blob_server, session, tmp_path)
    report = tmp_path / "daily.bin"
    report.write_bytes(os.urandom(SIZE))
    publish = ("library", "publish", str(gid), str(report), "--category", "daily_report")

    def flow() -> None:
        upload_id, token = _interrupted_upload(blob_server, fake_home, c, publish, coord_home, 1)
        with report.open("r+b") as fh:  # the user edits the file before trying again
            fh.write(b"edited")
        again = _typed(fake_home, *c, *publish).output
        assert "changed since its interrupted upload" in again, again
        gone = httpx.get(
            f"{blob_server.base}/api/v1/library/uploads/{upload_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert gone.status_code == 404  # the old upload was abandoned, not glued onto
        doc = _published(again)

        out = tmp_path / "downloads"
        out.mkdir()
        get = ("library", "get", str(gid), doc, "--out", str(out))
        part = out / f".{report.name}.{doc}.v1.part"
        downloading = _started(fake_home, *m, *get, "--limit-rate", "1M")
        _wait_for(
            "two verified segments",
            lambda: part.exists() and part.stat().st_size >= 2 * MIB or None,
        )
        _kill(downloading)
        with part.open("r+b") as fh:  # the disk damages a segment already verified
            fh.seek(MIB + 10)
            byte = fh.read(1)
            fh.seek(-1, os.SEEK_CUR)
            fh.write(bytes([byte[0] ^ 1]))
        damaged = _typed(fake_home, *m, *get, ok=False)
        assert damaged.code == 1 and "the partial file was damaged" in damaged.output, (
            damaged.output
        )
        assert list(out.iterdir()) == []  # the damaged partial file is gone, nothing saved
        _typed(fake_home, *m, *get)
        assert (out / report.name).read_bytes() == report.read_bytes()  # the edited content
        (out / report.name).unlink()

        blobs = list((blob_server.blob_dir / "sha256").glob("*/*/*"))  # type: ignore[attr-defined]
        listing = httpx.get(
            f"{blob_server.base}/api/v1/groups/{gid}/library/documents/{doc}",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        blob = next(p for p in blobs if p.name == _sha_hex(listing["latest"]["sha256"]))
        with blob.open("r+b") as fh:  # a server flips one byte inside segment 4
            fh.seek(4 * (MIB + 16) + 100)
            byte = fh.read(1)
            fh.seek(-1, os.SEEK_CUR)
            fh.write(bytes([byte[0] ^ 1]))
        refused = _typed(
            fake_home, *m, "library", "get", str(gid), doc, "--out", str(out), ok=False
        )
        assert refused.code == 1, refused.output
        assert "document segment 4 failed authentication" in refused.output, refused.output
        assert "nothing was saved" in refused.output, refused.output
        assert list(out.iterdir()) == []  # neither the document nor a partial file

    await asyncio.to_thread(flow)


def _sha_hex(b64: str) -> str:
    import base64

    return base64.b64decode(b64 + "=" * (-len(b64) % 4), altchars=b"-_").hex()


def _withdrawn(fake_home: Path, who: list[str], gid: uuid.UUID, doc: str) -> bool:
    """The document's `withdrawn` field as `library ls --json` gives it (full ids, no table
    layout to parse; a `next()` over table rows once hung the thread it ran in)."""
    listed = json.loads(_typed(fake_home, *who, "library", "ls", str(gid), "--json").output)
    [entry] = [d for d in listed if d["id"] == doc]
    return bool(entry["withdrawn"])


async def test_withdraw_by_a_coordinator_refused_for_a_member(
    blob_server: Server, session: AsyncSession, tmp_path: Path
):
    """`cordon library withdraw GROUP DOC`: a member gets `group.role_required`; after the
    coordinator withdraws, the member's `library ls` shows it withdrawn and `get` is refused."""
    gid, c, m, _, fake_home = await _group(blob_server, session, tmp_path)
    note = tmp_path / "circular.txt"
    note.write_bytes(b"withdrawn circular\n" * 40)

    def flow() -> None:
        doc = _published(
            _typed(
                fake_home, *c, "library", "publish", str(gid), str(note), "--category", "other"
            ).output
        )
        note.write_bytes(b"corrected circular\n" * 40)
        second = _typed(
            fake_home,
            *c,
            "library",
            "publish",
            str(gid),
            str(note),
            "--document",
            doc,
            "--version",
            "2",
        ).output
        assert f"published {doc} version 2" in second, second
        assert "760/760 bytes" in second, second  # once `776/760 bytes`: ciphertext counted
        versions = _typed(fake_home, *m, "library", "versions", str(gid), doc).output
        assert re.search(r"^\W*1\b", versions, re.M) and re.search(r"^\W*2\b", versions, re.M)
        out = tmp_path / "v1"
        out.mkdir()
        first = _typed(
            fake_home, *m, "library", "get", str(gid), doc, "--version", "1", "--out", str(out)
        ).output
        assert "760/760 bytes" in first, first
        assert (out / note.name).read_bytes() == b"withdrawn circular\n" * 40

        refused = _typed(fake_home, *m, "library", "withdraw", str(gid), doc, ok=False)
        assert refused.code == 1 and "group.role_required" in refused.output, refused.output
        assert _withdrawn(fake_home, m, gid, doc) is False

        assert (
            f"withdrawn {doc}" in _typed(fake_home, *c, "library", "withdraw", str(gid), doc).output
        )
        assert _withdrawn(fake_home, m, gid, doc) is True
        gone = _typed(
            fake_home, *m, "library", "get", str(gid), doc, "--out", str(tmp_path), ok=False
        )
        assert gone.code == 1 and "library.withdrawn" in gone.output, gone.output
        assert not list(tmp_path.glob(".*.part"))  # refused before any byte: nothing left

    await asyncio.to_thread(flow)
