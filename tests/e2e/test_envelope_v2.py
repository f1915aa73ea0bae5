"""Protocol v2 envelopes through a real server: signed labels against an operator who edits
the database, sender-key recovery after a lost SENDER_KEY, the replay cache across restarts,
and persist-before-send across a client killed between sealing and posting."""

import asyncio
import base64
import json
import os
import signal
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cordon_client import wire
from cordon_client._client import Cordon
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.messages import service as messages_service
from app.messages.models import MessageKind, StreamItem
from tests.e2e.server import Server, running
from tests.e2e.test_sdk import PASSPHRASE, _operation

pytestmark = pytest.mark.e2e


@pytest.fixture
def live(database_url: str) -> Iterator[Server]:
    """A uvicorn subprocess on the test database."""
    with running(database_url) as server:
        yield server


def device_of(client: Cordon) -> uuid.UUID:
    return client.state.require()[1].device_id


async def _edit(session: AsyncSession, gid: uuid.UUID, seq: int, **values: object) -> None:
    """The operator rewrites one item's routing copy in the database."""
    await session.execute(
        update(StreamItem).where(StreamItem.group_id == gid, StreamItem.seq == seq).values(**values)
    )
    await session.commit()


async def test_edited_labels_are_refused_and_the_client_goes_on(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """The server edits kind, urgent and parent_seq of items, and moves a coordinator's review
    to another case: each item is refused naming the field, and the next item still opens."""
    op = await _operation(live, session, tmp_path, "Operation Labels")
    gid, coord, alice = op.gid, op.coord, op.clients["alice"]
    case_a = await coord.send(gid, "case A", kind="alert", urgent=True)
    case_b = await coord.send(gid, "case B", kind="alert")
    review = await coord.send(gid, "verified", kind="chat", parent_seq=case_a, review=True)
    reply = await coord.send(gid, "a reply", kind="chat", parent_seq=case_b)
    honest = {i.seq: i for i in await alice.receive()}
    assert (honest[case_a].urgent, honest[review].parent_seq, honest[review].review) == (
        True,
        case_a,
        True,
    )
    assert (honest[reply].parent_seq, honest[reply].review) == (case_b, False)

    alert = await coord.send(gid, "an alert", kind="alert")
    urgent = await coord.send(gid, "urgent", kind="alert", urgent=True)
    moved = await coord.send(gid, "verified again", kind="chat", parent_seq=case_a, review=True)
    dropped = await coord.send(gid, "a reply", kind="chat", parent_seq=case_b)
    after = await coord.send(gid, "still working", kind="alert")
    await _edit(session, gid, alert, kind="chat")
    await _edit(session, gid, urgent, urgent=False)
    await _edit(session, gid, moved, parent_seq=case_b)
    await _edit(session, gid, dropped, parent_seq=None)
    got = {i.seq: i for i in await alice.receive()}
    expected = {
        alert: f"routing copy of seq {alert}: kind: 'chat' but the envelope is signed as alert",
        urgent: f"routing copy of seq {urgent}: urgent: False but the envelope is signed "
        "urgent=True",
        moved: f"routing copy of seq {moved}: parent_seq: names another item than the "
        "envelope's signed target",
        dropped: f"routing copy of seq {dropped}: parent_seq: missing but the envelope names a "
        "reply or review target",
    }
    for seq, error in expected.items():
        assert (got[seq].verified, got[seq].content, got[seq].error) == (False, None, error)
    assert (got[after].verified, got[after].text) == (True, "still working")
    await op.close()


async def test_replayed_and_swapped_envelopes_are_refused(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """An envelope the server serves again at a later seq is a replay even after the client
    restarted (the replay cache is persisted); two envelopes swapped between items are refused
    for naming another message id; the next item opens."""
    op = await _operation(live, session, tmp_path, "Operation Replay")
    gid, coord, alice = op.gid, op.coord, op.clients["alice"]
    first = await coord.send(gid, "first", kind="alert")
    second = await coord.send(gid, "second", kind="alert")
    third = await coord.send(gid, "third", kind="alert")
    assert {i.seq for i in await alice.receive() if i.verified} >= {first, second, third}
    await alice.aclose()

    row = (
        await session.execute(
            select(StreamItem).where(StreamItem.group_id == gid, StreamItem.seq == first)
        )
    ).scalar_one()
    copy = {c: getattr(row, c) for c in ("envelope", "sender_user_id", "sender_device_id")}
    copy |= {"client_msg_id": row.client_msg_id}
    await session.execute(
        delete(StreamItem).where(StreamItem.group_id == gid, StreamItem.seq == first)
    )
    replayed = await messages_service.append(session, group_id=gid, kind=MessageKind.ALERT, **copy)
    await session.commit()
    swap_a, swap_b = (
        await coord.send(gid, "x", kind="alert"),
        await coord.send(gid, "y", kind="alert"),
    )
    env_a, env_b = await _envelope(session, gid, swap_a), await _envelope(session, gid, swap_b)
    await _edit(session, gid, swap_a, envelope=env_b)
    await _edit(session, gid, swap_b, envelope=env_a)
    after = await coord.send(gid, "after", kind="alert")

    restarted = Cordon(
        tmp_path / op.users["alice"].username, PASSPHRASE, server=live.base, scrypt_n=2**14
    )
    got = {i.seq: i for i in await restarted.receive()}
    assert (got[replayed.seq].verified, got[replayed.seq].error) == (
        False,
        "duplicate message id from this device",
    )
    for seq in (swap_a, swap_b):
        assert (got[seq].verified, got[seq].error) == (
            False,
            f"routing copy of seq {seq}: client_msg_id is not the envelope's message id",
        )
    assert (got[after].verified, got[after].text) == (True, "after")
    await restarted.aclose()
    await op.close()


async def _envelope(session: AsyncSession, gid: uuid.UUID, seq: int) -> bytes:
    row = await session.execute(
        select(StreamItem.envelope).where(StreamItem.group_id == gid, StreamItem.seq == seq)
    )
    return bytes(row.scalar_one())


async def test_a_lost_sender_key_costs_one_round_trip(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """The server drops the coordinator's SENDER_KEY for Bob only: Bob's first broadcast is
    parked and he asks the coordinator's device (KEY_REQUEST); the coordinator re-shares the
    chain to Bob's device alone; Bob then reads the parked broadcast and the next ones."""
    op = await _operation(
        live,
        session,
        tmp_path,
        "Operation Recovery",
        members=("alice", "bob"),
        joined=("alice", "bob"),
    )
    gid, coord, alice, bob = op.gid, op.coord, op.clients["alice"], op.clients["bob"]
    bob_device, coord_device = device_of(bob), device_of(coord)
    lost = await coord.send(gid, "broadcast one", kind="alert")
    rows = await session.execute(
        select(StreamItem.seq, StreamItem.recipients).where(
            StreamItem.group_id == gid, StreamItem.kind == "sender_key"
        )
    )
    ((key_seq, recipients),) = rows.all()
    assert str(bob_device) in recipients
    await _edit(session, gid, key_seq, recipients=[r for r in recipients if r != str(bob_device)])

    first = {i.seq: i for i in await bob.receive()}
    assert first[lost].verified is False
    assert first[lost].error.startswith("no sender key for chain")
    assert first[lost].error.endswith("; the sender was asked to re-share it")
    await coord.receive()  # the coordinator's device answers the KEY_REQUEST
    reshared = (
        await session.execute(
            select(StreamItem.sender_device_id, StreamItem.recipients).where(
                StreamItem.group_id == gid, StreamItem.kind == "sender_key", StreamItem.seq > lost
            )
        )
    ).all()
    assert [(d, r) for d, r in reshared if d == coord_device] == [(coord_device, [str(bob_device)])]
    second = await bob.receive()
    assert [(i.seq, i.text, i.verified) for i in second if i.kind == "alert"] == [
        (lost, "broadcast one", True)
    ]
    nxt = await coord.send(gid, "broadcast two", kind="alert")
    assert [(i.text, i.verified) for i in await bob.receive() if i.seq == nxt] == [
        ("broadcast two", True)
    ]
    assert [i.text for i in await alice.receive() if i.kind == "alert"] == [
        "broadcast one",
        "broadcast two",
    ]
    await op.close()


CRASHER = textwrap.dedent(
    """
    import asyncio, sys, uuid
    from pathlib import Path
    from cordon_client._client import Cordon
    from cordon_client.messaging.client import MessagingClient

    directory, passphrase, server, gid, mode = sys.argv[1:6]
    real_call = MessagingClient._call

    async def call(self, method, path, **kw):
        body = kw.get("json") or {}
        envelopes = [m["envelope"] for m in body.get("messages", [])]
        envelopes += [body["envelope"]] if "envelope" in body else []
        if method == "POST" and envelopes and body.get("kind", "alert") != "sender_key":
            for envelope in envelopes:
                print("SEALED", envelope, flush=True)
            if mode.startswith("crash"):
                await asyncio.sleep(3600)  # killed here: sealed, not posted
        return await real_call(self, method, path, **kw)

    MessagingClient._call = call

    async def main():
        client = Cordon(Path(directory), passphrase, server=server, scrypt_n=2**14)
        if mode.endswith("many"):
            await client.send_many(uuid.UUID(gid), ["batch one", "batch two"])
        else:
            await client.send(uuid.UUID(gid), "single", kind="alert")
        print("DONE", flush=True)

    asyncio.run(main())
    """
)


async def _run_client(directory: Path, server: Server, gid: uuid.UUID, mode: str) -> list[bytes]:
    """Run a client process; in a crash mode SIGKILL it once it has sealed (before posting).
    Returns the envelopes it sealed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASHER,
        str(directory),
        PASSPHRASE,
        server.base,
        str(gid),
        mode,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    sealed: list[bytes] = []
    expected = 2 if mode.endswith("many") else 1
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "the client process ended before sealing"
        if line.startswith("SEALED "):
            sealed.append(base64.b64decode(line.split()[1]))
            if mode.startswith("crash") and len(sealed) == expected:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                return sealed
        elif line.startswith("DONE"):
            await proc.wait()
            return sealed


async def test_a_client_killed_between_sealing_and_posting_never_reuses_a_nonce(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """SIGKILL after sealing and before posting, for `send` and for `send_many`, then restart
    and send again: every broadcast sealed by this device uses a distinct (chain, index), so
    no AES-GCM key and nonce is ever used twice."""
    op = await _operation(live, session, tmp_path, "Operation Crash")
    gid, coord = op.gid, op.coord
    await coord.send(gid, "warm-up", kind="alert")  # the chain is distributed
    directory = tmp_path / f"{coord.state.require()[0].username}"
    await coord.aclose()
    sealed = []
    for mode in ("crash", "send", "crash-many", "many", "send"):
        sealed += await _run_client(directory, live, gid, mode)
    positions = [wire.parse_envelope(e).broadcast_position() for e in sealed]
    assert len(positions) == 7
    assert len(set(positions)) == 7, positions
    chains = {c for c, _ in positions}
    indexes = sorted(i for _, i in positions)
    assert len(chains) == 1 and indexes == list(range(indexes[0], indexes[0] + 7))
    for c in op.clients.values():
        await c.aclose()
    await op.admin.aclose()


class _Counting(httpx.AsyncHTTPTransport):
    """The real transport, keeping the path of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await super().handle_async_request(request)


async def test_own_receipts_come_back_unchecked_and_unshown(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """The server shows a user the items it caused, so Alice's delivered receipts come back to
    her. Her next receive shows none of them and fetches no item to check them (it used to
    cost a request per item); the coordinator, their addressee, still verifies every one."""
    op = await _operation(live, session, tmp_path, "Operation Echo")
    gid, coord, alice = op.gid, op.coord, op.clients["alice"]
    await coord.send_many(gid, [f"item {i}" for i in range(5)])
    assert [i.kind for i in await alice.receive()].count("alert") == 5
    home = alice.state.directory
    await alice.aclose()
    counting = _Counting()
    again = Cordon(home, PASSPHRASE, server=live.base, transport=counting)
    op.clients["alice"] = again
    assert await again.receive() == []
    assert not [p for p in counting.paths if "/messages/" in p], counting.paths
    got = [i for i in await coord.receive() if i.kind == "receipt"]
    assert len(got) == 5 and all(i.verified for i in got), got
    await op.close()


async def test_receipts_are_signed_by_the_receipting_device(
    live: Server, session: AsyncSession, tmp_path: Path
):
    """Alice's device signs its receipts; the coordinator's client accepts them as verified.
    A receipt the operator edits (delivered → read) or moves to another item is refused with
    the reason, and the next one is still accepted."""
    op = await _operation(live, session, tmp_path, "Operation Receipts")
    gid, coord, alice = op.gid, op.coord, op.clients["alice"]
    first = await coord.send(gid, "first", kind="alert")
    second = await coord.send(gid, "second", kind="alert")
    await alice.receive()  # delivered receipts for both, signed by Alice's device
    receipts = (
        await session.execute(
            select(StreamItem.seq, StreamItem.envelope)
            .where(StreamItem.group_id == gid, StreamItem.kind == "receipt")
            .order_by(StreamItem.seq)
        )
    ).all()
    assert [json.loads(e)["seq"] for _, e in receipts] == [first, second]
    (edited_seq, edited), (moved_seq, moved) = receipts
    await _edit(
        session,
        gid,
        edited_seq,
        envelope=json.dumps(json.loads(edited) | {"status": "read"}).encode(),
    )
    await _edit(
        session, gid, moved_seq, envelope=json.dumps(json.loads(moved) | {"seq": first}).encode()
    )
    await alice.mark_read(gid, second)
    got = [i for i in await coord.receive() if i.kind == "receipt"]
    assert [(i.seq, i.verified, i.error) for i in got] == [
        (edited_seq, False, f"receipt for seq {first}: signature does not verify"),
        (
            moved_seq,
            False,
            f"receipt for seq {first}: signed for another item than the one there",
        ),
        (got[2].seq, True, None),
    ]
    assert got[2].event is not None and (got[2].event["seq"], got[2].event["status"]) == (
        second,
        "read",
    )
    await op.close()
