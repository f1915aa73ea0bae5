"""The E2EE scenario through a real server, exactly as clients would run it.

Users log in with the SDK (`cordon_client.Cordon`), a coordinator opens the group's signed log,
members join by comparing the root fingerprint, an alert and a direct message travel end to
end, a member is removed. Afterwards the server's database and logs are scanned for the
plaintext canaries and for every private key byte string the clients hold: none may appear.
"""

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pyotp
import pytest
from cordon_client._client import Cordon
from cordon_client.exceptions import ApiError, CryptoError, TrustError
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Base
from app.messages.models import StreamItem
from app.users.models import User
from tests import factories as f
from tests.e2e.joining import admit
from tests.e2e.server import Server, running

PASSPHRASE = "keystore passphrase for tests"
CANARIES = [f"CANARY-{uuid.uuid4().hex}" for _ in range(4)]


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """A uvicorn subprocess on the test database, logging at DEBUG to a file we can scan."""
    with running(database_url, log_path=tmp_path / "server.log", CORDON_LOG_LEVEL="DEBUG") as s:
        yield s


async def _login(live: Server, tmp: Path, u, seed=None) -> Cordon:
    client = Cordon(tmp / u.username, PASSPHRASE, server=live.base, scrypt_n=2**14)
    await client.login(u.username, f.PASSWORD, pyotp.TOTP(seed).now() if seed else None)
    return client


@dataclass
class Operation:
    """An active group whose coordinator opened the signed log, with logged-in members."""

    gid: uuid.UUID
    code: str
    admin: Cordon
    coord: Cordon
    coord_id: uuid.UUID
    users: dict[str, User]
    clients: dict[str, Cordon]

    async def close(self) -> None:
        for c in (self.admin, self.coord, *self.clients.values()):
            await c.aclose()


async def _operation(
    live: Server,
    session: AsyncSession,
    tmp_path: Path,
    name: str,
    *,
    members: tuple[str, ...] = ("alice",),
    joined: tuple[str, ...] = ("alice",),
) -> Operation:
    """Admin opens the group, the coordinator opens its log, `joined` members are added and
    join by comparing the fingerprint; the other `members` are only logged in."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    users = {m: (await f.user(session))[0] for m in members}
    admin = await _login(live, tmp_path, admin_u, admin_seed)
    coord = await _login(live, tmp_path, coord_u, coord_seed)
    clients = {m: await _login(live, tmp_path, u) for m, u in users.items()}
    gid = await admin.create_group(name, coordinator_id=coord_u.id)
    await coord.set_group_status(gid, "active")
    code = await coord.open_group_log(gid)
    for m in joined:
        await admit(coord, clients[m], gid, users[m].username)
        await clients[m].join_group(gid, expected_fingerprint=code)
    return Operation(gid, code, admin, coord, coord_u.id, users, clients)


async def _database_bytes(database_url: str) -> bytes:
    """Every stored value, as bytes: the whole SQLite file, or every PostgreSQL row."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # Read through another process: closing any descriptor of the database file in this
        # process would drop SQLite's POSIX locks held by this process's own connections.
        db = Path(url.database or "")
        files = [str(p) for p in db.parent.glob(db.name + "*")]
        return subprocess.run(["cat", *files], capture_output=True, check=True).stdout
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        chunks = []
        for table in Base.metadata.sorted_tables:
            for row in await conn.fetch(f'SELECT * FROM "{table.name}"'):
                for value in row.values():
                    chunks.append(value if isinstance(value, bytes) else str(value).encode())
        return b"\x00".join(chunks)
    finally:
        await conn.close()


async def test_end_to_end_encryption_through_a_real_server(
    live: Server, session: AsyncSession, tmp_path: Path, database_url: str
):
    """Members read what they should, the removed member does not, and nothing leaks."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    alice_u, _ = await f.user(session)
    bob_u, _ = await f.user(session)
    admin = await _login(live, tmp_path, admin_u, admin_seed)
    coord = await _login(live, tmp_path, coord_u, coord_seed)
    alice = await _login(live, tmp_path, alice_u)
    bob = await _login(live, tmp_path, bob_u)
    gid = await admin.create_group("Operation Canary", coordinator_id=coord_u.id)
    await coord.set_group_status(gid, "active")

    code = await coord.open_group_log(gid)
    for member_u, member in ((alice_u, alice), (bob_u, bob)):
        await admit(coord, member, gid, member_u.username)
    with pytest.raises(TrustError):
        await alice.join_group(gid, expected_fingerprint="00000 " * 12)
    assert await alice.join_group(gid, expected_fingerprint=code) == code
    assert await bob.join_group(gid, expected_fingerprint=code) == code
    assert alice.fingerprint(gid) == coord.fingerprint(gid)

    seq = await coord.send(gid, CANARIES[0], kind="alert", urgent=True)
    for reader in (alice, bob):
        got = [i for i in await reader.receive() if i.kind == "alert"]
        assert [(i.seq, i.text, i.verified, i.urgent) for i in got] == [
            (seq, CANARIES[0], True, True)
        ]
        assert got[0].sender_user_id == coord_u.id

    direct = await alice.send(gid, CANARIES[1], kind="chat", to_users=[coord_u.id])
    assert [i.text for i in await coord.receive() if i.seq == direct] == [CANARIES[1]]
    assert all(i.seq != direct for i in await bob.receive())

    await coord.remove_member(gid, bob_u.id)
    after = await coord.send(gid, CANARIES[2], kind="alert")
    assert [i.text for i in await alice.receive() if i.seq == after] == [CANARIES[2]]
    assert all(i.seq != after for i in await bob.receive())
    stolen = await _fetch_envelope(alice, gid, after)
    with pytest.raises(CryptoError):
        (await bob._session(gid)).decrypt(stolen)

    reply = await alice.send(gid, CANARIES[3], kind="chat", parent_seq=after)
    assert [(i.text, i.parent_seq) for i in await coord.receive() if i.seq == reply] == [
        (CANARIES[3], after)
    ]

    secrets = _private_key_bytes(admin, coord, alice, bob, gid=gid)
    for client in (admin, coord, alice, bob):
        await client.aclose()
    live.process.terminate()
    live.process.wait(20)
    stored = await _database_bytes(database_url)
    logs = live.log_path.read_bytes()
    assert b"/api/v1/sync" in logs  # the logs are real and were captured
    for canary in CANARIES:
        assert canary.encode() not in stored and canary.encode() not in logs
    for key in secrets:
        assert key not in stored and key not in logs


async def _fetch_envelope(client: Cordon, gid: uuid.UUID, seq: int) -> bytes:
    """What a member who still belongs can fetch: the raw ciphertext of one item."""
    import base64

    item = await client._call("GET", f"/api/v1/groups/{gid}/messages/{seq}")
    return base64.b64decode(item["envelope"])


def _private_key_bytes(*clients: Cordon, gid: uuid.UUID) -> list[bytes]:
    keys: list[bytes] = []
    for c in clients:
        ks = c.state.keystore
        assert ks is not None
        keys.append(ks.signing_key.private_bytes_raw())
        if ks.member_key is not None:
            keys.append(ks.member_key.private_bytes_raw())
        keys += [p.private.private_bytes_raw() for p in ks.prekeys.values()]
        keys += [k.private_bytes_raw() for k in c.one_time_prekeys().privates.values()]
        root = c.state.root_key(gid)
        if root is not None:
            keys.append(root.private_bytes_raw())
    return keys


async def test_new_device_and_forged_items(live: Server, session: AsyncSession, tmp_path: Path):
    """A member's second device is certified by the first and receives its history; an item
    the server tampers with is reported as unverified with a reason, and the client goes on."""
    op = await _operation(live, session, tmp_path, "Operation Second Device")
    gid, code, coord, alice = op.gid, op.code, op.coord, op.clients["alice"]
    alice_u = op.users["alice"]
    await coord.send(gid, "before the second device", kind="alert")
    assert [i.text for i in await alice.receive() if i.kind == "alert"] == [
        "before the second device"
    ]

    phone = Cordon(tmp_path / "alice-phone", PASSPHRASE, server=live.base, scrypt_n=2**14)
    await phone.login(alice_u.username, f.PASSWORD)
    with pytest.raises(TrustError):
        await phone.join_group(gid, expected_fingerprint=code)  # it holds no member key
    phone_id = await alice.certify_device(gid, phone.link_code())
    await phone.join_group(gid, expected_fingerprint=code)
    await alice.transfer_history(gid, phone_id)
    await phone.receive()
    assert (await phone._session(gid)).receiver_chains, "the transfer installed chain states"

    seq = await coord.send(gid, "after the second device", kind="alert")
    assert [i.text for i in await phone.receive() if i.seq == seq] == ["after the second device"]

    tampered = await coord.send(gid, "to be tampered with", kind="alert")
    await session.execute(
        update(StreamItem)
        .where(StreamItem.group_id == gid, StreamItem.seq == tampered)
        .values(envelope=b"CXM" + bytes(200))
    )
    await session.commit()
    got = {i.seq: i for i in await alice.receive()}
    assert got[tampered].verified is False and got[tampered].error
    follow = await coord.send(gid, "still working", kind="alert")
    assert [i.text for i in await alice.receive() if i.seq == follow] == ["still working"]
    await phone.aclose()
    await op.close()


async def test_library_publish_download_and_explicit_grant(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """Members present at publication read the document; a later member needs the
    coordinator's logged grant before any key reaches them."""
    op = await _operation(live, session, tmp_path, "Operation Library", members=("alice", "late"))
    gid, code, coord = op.gid, op.code, op.coord
    alice, late, late_u = op.clients["alice"], op.clients["late"], op.users["late"]

    report = tmp_path / "analysis-report-phase-1.pdf"
    report.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    published = await coord.publish_document(gid, report, category="analysis_report")
    await alice.receive()
    got = await alice.download_document(
        gid, published.document_id, published.version, tmp_path / "alice-copy.pdf"
    )
    assert got.name == report.name
    assert (tmp_path / "alice-copy.pdf").read_bytes() == report.read_bytes()

    await admit(coord, late, gid, late_u.username)
    await late.join_group(gid, expected_fingerprint=code)
    await late.receive()
    with pytest.raises(CryptoError, match="library grant"):
        await late.download_document(
            gid, published.document_id, published.version, tmp_path / "late-copy.pdf"
        )
    await coord.grant_library(gid, late_u.id)
    await late.receive()
    await late.download_document(
        gid, published.document_id, published.version, tmp_path / "late-copy.pdf"
    )
    assert (tmp_path / "late-copy.pdf").read_bytes() == report.read_bytes()
    await op.close()


async def test_inbox_keeps_content_for_later_readers(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """Content taken off the stream stays in the device's encrypted inbox until an application
    layer takes it, across a restart, so `receive()`/`listen()` never starve the archive."""
    op = await _operation(live, session, tmp_path, "Operation Inbox")
    gid, coord, alice, alice_u = op.gid, op.coord, op.clients["alice"], op.users["alice"]
    seq = await coord.send(gid, "kept for the archive", kind="alert")
    assert [i.seq for i in await alice.receive() if i.kind == "alert"] == [seq]
    await alice.aclose()

    reopened = Cordon(tmp_path / alice_u.username, PASSPHRASE, scrypt_n=2**14)
    kept = reopened.take_inbox()
    assert [(i.seq, i.text, i.verified) for i in kept] == [(seq, "kept for the archive", True)]
    assert reopened.take_inbox() == []
    op.clients.pop("alice")  # closed above; the reopened copy is closed here
    await reopened.aclose()
    await op.close()


async def test_send_many_posts_a_backlog_in_batches(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """`send_many` encrypts a backlog larger than one batch; every item arrives decrypted and
    verified, in order, with consecutive seqs."""
    op = await _operation(live, session, tmp_path, "Operation Backlog")
    gid, coord, alice = op.gid, op.coord, op.clients["alice"]
    texts = [f"seizure report {i}" for i in range(300)]  # two batches: 256 + 44
    seqs = await coord.send_many(gid, texts)
    assert seqs == list(range(seqs[0], seqs[0] + 300))
    got = [i for i in await alice.receive() if i.kind == "alert"]
    assert [(i.seq, i.text, i.verified) for i in got] == [
        (s, t, True) for s, t in zip(seqs, texts, strict=True)
    ]
    await op.close()


async def test_password_change_ends_the_other_sessions(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """`change_password` needs the current password and logs the account's other devices out;
    the device that changed it keeps working."""
    u, _ = await f.user(session)
    laptop = await _login(server, tmp_path / "laptop", u)
    phone = await _login(server, tmp_path / "phone", u)
    try:
        with pytest.raises(ApiError) as wrong:
            await laptop.change_password("not it", "a brand new passphrase")
        assert wrong.value.code == "auth.invalid_credentials"
        assert await laptop.change_password(f.PASSWORD, "a brand new passphrase") == 1
        with pytest.raises(ApiError) as ended:
            await phone.change_password("a brand new passphrase", "another new passphrase")
        assert ended.value.code == "auth.invalid_token"
        assert await laptop.change_password("a brand new passphrase", f.PASSWORD) == 0
    finally:
        await laptop.aclose()
        await phone.aclose()
