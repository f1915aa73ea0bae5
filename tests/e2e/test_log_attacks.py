"""The server's operator attacks keys and the log (issue 11, items 1–5), through a real server.

Each attack edits the database or rewrites responses for one client (an httpx transport in
the test that sits where a proxy would), and asserts the exact refusal and that the client
keeps working for everything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from cordon_client._account import now_ms
from cordon_client._client import Cordon
from cordon_client._crypto import LogWriter, new_signing_key, public_bytes
from cordon_client._crypto._encoding import b64d, b64e
from cordon_client._crypto.roster import verify_fork_proof
from cordon_client.exceptions import (
    BindingError,
    DeviceKeyMismatchError,
    ForkError,
    ForkProofError,
    GroupFrozenError,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.invitations.models import JoinRequest
from app.keys.models import GroupLogEntry
from tests import factories as f
from tests.e2e.server import Server

pytestmark = pytest.mark.e2e
PASSPHRASE = "keystore passphrase for tests"
Edit = Callable[[httpx.Request, Any], Any]


class Rewriting(httpx.AsyncBaseTransport):
    """Forwards to the real server and lets the test edit JSON answers for this client."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.edit: Edit | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        is_json = response.headers.get("content-type", "").endswith("json")
        if self.edit is None or not body or not is_json:
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        data = self.edit(request, json.loads(body))
        return httpx.Response(response.status_code, json=data)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _login(server: Server, tmp: Path, u: Any, seed: str | None = None) -> Cordon:
    client = Cordon(
        tmp / u.username, PASSPHRASE, server=server.base, scrypt_n=2**14, transport=Rewriting()
    )
    await client.login(u.username, f.PASSWORD, pyotp.TOTP(seed).now() if seed else None)
    return client


def proxy(client: Cordon) -> Rewriting:
    transport = client._http._transport  # noqa: SLF001  (the test's proxy for this client)
    assert isinstance(transport, Rewriting)
    return transport


async def _group(server: Server, session: AsyncSession, tmp: Path, *names: str):  # type: ignore[no-untyped-def]
    """An active group with an opened log; members logged in but not admitted."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    admin = await _login(server, tmp, admin_u, admin_seed)
    coord = await _login(server, tmp, coord_u, coord_seed)
    gid = await admin.create_group(f"Operation {uuid.uuid4().hex[:6]}", coordinator_id=coord_u.id)
    await admin.aclose()
    await coord.set_group_status(gid, "active")
    await coord.open_group_log(gid)
    people = {}
    for name in names:
        u, _ = await f.user(session)
        people[name] = (u, await _login(server, tmp, u))
    return gid, coord, people


async def _admit(coord: Cordon, member: Cordon, gid: uuid.UUID, username: str) -> None:
    await member.request_join(await coord.invite(gid, for_user=username))
    assert await coord.add_member(gid, username) == "invitation"
    await member.join_group(gid)


async def _alerts(client: Cordon) -> dict[int, Any]:
    return {i.seq: i for i in await client.receive() if i.kind == "alert"}


async def test_server_swaps_the_member_key_during_group_add(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A swapped key in the join request (rewritten, or edited in the database) fails the
    invitation MAC: nothing is signed; the coordinator goes on admitting others."""
    gid, coord, people = await _group(server, session, tmp_path, "alice", "bob")
    (alice_u, alice), (bob_u, bob) = people["alice"], people["bob"]
    await alice.request_join(await coord.invite(gid, for_user=alice_u.username))
    head_before = coord.log_head(gid)
    evil = b64e(public_bytes(new_signing_key()))

    def swap(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/join-requests"):
            for item in data:
                item["member_key"] = evil
        return data

    proxy(coord).edit = swap
    with pytest.raises(BindingError, match=f"does not cover member key {evil}"):
        await coord.add_member(gid, alice_u.username)
    proxy(coord).edit = None
    assert coord.log_head(gid) == head_before
    assert (await coord.roster(gid)).members.get(alice_u.id) is None

    row = await session.scalar(select(JoinRequest).where(JoinRequest.user_id == alice_u.id))
    assert row is not None
    row.member_key = b64d(evil, length=32)
    await session.commit()
    with pytest.raises(BindingError, match=f"does not cover member key {evil}"):
        await coord.add_member(gid, alice_u.username)

    await _admit(coord, bob, gid, bob_u.username)
    seq = await coord.send(gid, "bob reads this", kind="alert")
    assert (await _alerts(bob))[seq].text == "bob reads this"
    for c in (coord, alice, bob):
        await c.aclose()


async def test_server_swaps_the_device_key_during_certification(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """The link code commits to the new device's key: a served substitute is refused and
    nothing is certified; the real key is certified once the directory is honest."""
    gid, coord, people = await _group(server, session, tmp_path, "alice")
    alice_u, alice = people["alice"]
    await _admit(coord, alice, gid, alice_u.username)
    phone = await _login(server, tmp_path / "phone", alice_u)
    code = phone.link_code()
    evil = b64e(public_bytes(new_signing_key()))
    phone_id = str(phone.state.require()[1].device_id)

    def swap(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/keys"):
            for item in data:
                if item["device_id"] == phone_id:
                    item["signing_key"] = evil
        return data

    proxy(alice).edit = swap
    with pytest.raises(BindingError, match=f"served signing key {evil} is not the key"):
        await alice.certify_device(gid, code)
    proxy(alice).edit = None
    assert (await alice.roster(gid)).device(uuid.UUID(phone_id)) is None
    assert str(await alice.certify_device(gid, code)) == phone_id
    await phone.join_group(gid, expected_fingerprint=alice.fingerprint(gid)[0])
    seq = await coord.send(gid, "to both devices", kind="alert")
    assert (await _alerts(phone))[seq].text == "to both devices"
    for c in (coord, alice, phone):
        await c.aclose()


async def test_a_log_certifying_another_key_for_my_device_is_refused(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """The v1 attack: the log certifies the operator's key under the new phone's device id.
    The phone refuses to act on that log; the member revokes that entry from the first
    device, which keeps working."""
    gid, coord, people = await _group(server, session, tmp_path, "alice")
    alice_u, alice = people["alice"]
    await _admit(coord, alice, gid, alice_u.username)
    phone = await _login(server, tmp_path / "phone", alice_u)
    phone_id = phone.state.require()[1].device_id
    member_key = alice.state.require()[1].member_key
    assert member_key is not None
    evil = public_bytes(new_signing_key())
    entry = LogWriter(gid, list((await alice.roster(gid)).entries)).add_device(
        member_key, alice_u.id, phone_id, evil, now_ms()
    )
    session.add(
        GroupLogEntry(
            group_id=gid,
            seq=entry.seq,
            op=entry.op,
            entry_hash=entry.entry_hash(),
            entry_json=json.dumps(entry.to_json()),
        )
    )
    await session.commit()
    code, _ = coord.fingerprint(gid)
    with pytest.raises(
        DeviceKeyMismatchError, match=f"certifies key {b64e(evil)} for this device \\({phone_id}\\)"
    ):
        await phone.join_group(gid, expected_fingerprint=code)
    await alice.revoke_device(gid, phone_id)
    seq = await coord.send(gid, "the first device still reads", kind="alert")
    assert (await _alerts(alice))[seq].text == "the first device still reads"
    for c in (coord, alice, phone):
        await c.aclose()


async def test_501_entry_log_with_a_removal_at_entry_500(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """Read page by page to its head (pages cut to 200 here), the removal at seq 500 is
    honoured: the removed member cannot read the next alert, and the log grows on."""
    gid, coord, people = await _group(server, session, tmp_path, "alice", "bob", "carol")
    (alice_u, alice), (bob_u, bob), (carol_u, carol) = (
        people[n] for n in ("alice", "bob", "carol")
    )
    for u, c in ((alice_u, alice), (bob_u, bob)):
        await _admit(coord, c, gid, u.username)
    first = await coord.send(gid, "before the removal", kind="alert")
    assert (await _alerts(alice))[first].text == "before the removal"
    root = coord.state.root_key(gid)
    assert root is not None
    writer = LogWriter(gid, list((await coord.roster(gid)).entries))
    while len(writer.entries) < 500:
        writer.add_member(root, uuid.uuid4(), public_bytes(new_signing_key()), "member", now_ms())
    removal = writer.remove_member(root, alice_u.id, now_ms())
    assert removal.seq == 500
    for entry in writer.entries[len((await coord.roster(gid)).entries) :]:
        session.add(
            GroupLogEntry(
                group_id=gid,
                seq=entry.seq,
                op=entry.op,
                entry_hash=entry.entry_hash(),
                entry_json=json.dumps(entry.to_json()),
            )
        )
    await session.commit()

    def small_pages(request: httpx.Request, data: Any) -> Any:
        if request.url.path.endswith("/log") and request.method == "GET":
            data["items"] = data["items"][:200]
        return data

    for c in (coord, bob, alice):
        proxy(c).edit = small_pages
    roster = await coord.roster(gid)
    assert roster.head_seq == 500 and alice_u.id not in roster.members
    after = await coord.send(gid, "after the removal", kind="alert")
    assert (await _alerts(bob))[after].text == "after the removal"
    seen = (await _alerts(alice))[after]
    assert seen.verified is False and seen.text is None
    await _admit(coord, carol, gid, carol_u.username)
    assert (await coord.roster(gid)).head_seq == 502
    for c in (coord, alice, bob, carol):
        await c.aclose()


def _cli(home: Path, server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    """`cordon ARGS` in a new process, as a user would run it after a restart."""
    env = {**os.environ, "CORDON_HOME": str(home), "CORDON_PASSPHRASE": PASSPHRASE}
    env["CORDON_SERVER"], env["COLUMNS"] = server.base, "250"
    return subprocess.run(
        [sys.executable, "-m", "cordon_client.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


async def test_rollback_after_restart_is_refused(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """After a removal was verified and the process ended, an older log served to a new CLI
    process is refused with both seqs named; the honest log is accepted again."""
    gid, coord, people = await _group(server, session, tmp_path, "alice", "bob")
    (alice_u, alice), (bob_u, bob) = people["alice"], people["bob"]
    for u, c in ((alice_u, alice), (bob_u, bob)):
        await _admit(coord, c, gid, u.username)
    await coord.remove_member(gid, bob_u.id)
    head = (await alice.roster(gid)).head_seq
    await alice.aclose()
    removed = await session.scalar(
        select(GroupLogEntry).where(GroupLogEntry.group_id == gid, GroupLogEntry.seq == head)
    )
    assert removed is not None and removed.op == "remove_member"
    saved = {c: getattr(removed, c) for c in ("group_id", "seq", "op", "entry_hash", "entry_json")}
    await session.execute(delete(GroupLogEntry).where(GroupLogEntry.id == removed.id))
    await session.commit()

    home = tmp_path / alice_u.username
    refused = _cli(home, server, "send", str(gid), "to the old roster")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "rollback refused" in refused.stdout
    assert f"ends at seq {head - 1}" in refused.stdout and f"verified seq {head}" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr

    session.add(GroupLogEntry(**saved))
    await session.commit()
    sent = _cli(home, server, "send", str(gid), "to the current roster")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    await coord.aclose()
    await bob.aclose()


async def test_coordinator_signed_fork_is_reported_with_a_proof_and_freezes(
    server: Server, session: AsyncSession, tmp_path: Path
):
    """A different coordinator-signed entry at a seq alice verified is a fork: reported with
    a proof anyone verifies from the root, the group frozen (also in a new process) until
    alice resolves it with the head her coordinator confirms; a forged proof is refused."""
    gid, coord, people = await _group(server, session, tmp_path, "alice", "bob")
    (alice_u, alice), (bob_u, bob) = people["alice"], people["bob"]
    for u, c in ((alice_u, alice), (bob_u, bob)):
        await _admit(coord, c, gid, u.username)
    honest = (await alice.roster(gid)).entries
    root = coord.state.root_key(gid)
    assert root is not None
    other = LogWriter(gid, list(honest[:-1])).set_role(root, bob_u.id, "coordinator", now_ms())
    row = await session.scalar(
        select(GroupLogEntry).where(GroupLogEntry.group_id == gid, GroupLogEntry.seq == other.seq)
    )
    assert row is not None
    row.entry_json, row.entry_hash = json.dumps(other.to_json()), other.entry_hash()
    await session.commit()

    with pytest.raises(ForkError, match=f"fork detected at seq {other.seq}.*frozen") as info:
        await alice.roster(gid)
    proof = info.value.proof
    pinned = alice.state.pinned_root(gid)
    assert pinned == public_bytes(root)
    first, second = verify_fork_proof(pinned, gid, json.loads(json.dumps(proof)))
    assert {first.entry_hash(), second.entry_hash()} == {
        honest[-1].entry_hash(),
        other.entry_hash(),
    }
    with pytest.raises(GroupFrozenError, match=f"group {gid} is frozen"):
        await alice.send(gid, "not while frozen", kind="alert")
    await alice.aclose()

    home = tmp_path / alice_u.username
    frozen = _cli(home, server, "send", str(gid), "still frozen")
    assert frozen.returncode == 1 and "is frozen on this device" in frozen.stdout
    printed = _cli(home, server, "group", "fork-proof", str(gid))
    assert verify_fork_proof(pinned, gid, json.loads(printed.stdout))

    member_key = bob.state.require()[1].member_key
    assert member_key is not None
    forged_entry = LogWriter(gid, list(honest[:-1])).remove_member(member_key, alice_u.id, now_ms())
    forged = {**proof, "entries": [proof["entries"][0], forged_entry.to_json()]}  # type: ignore[index]
    with pytest.raises(ForkProofError, match="entry 2 .* does not extend the verified prefix"):
        verify_fork_proof(pinned, gid, forged)

    row.entry_json, row.entry_hash = json.dumps(honest[-1].to_json()), honest[-1].entry_hash()
    await session.commit()
    await coord.roster(gid)
    confirmed = coord.log_head(gid)
    assert confirmed is not None
    resolved = _cli(home, server, "group", "resolve-fork", str(gid), confirmed[1])
    assert resolved.returncode == 0 and "unfrozen" in resolved.stdout, resolved.stdout
    sent = _cli(home, server, "send", str(gid), "after the fork was resolved")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    got = [i.text for i in await bob.receive() if i.kind == "alert"]
    assert "after the fork was resolved" in got
    await coord.aclose()
    await bob.aclose()
