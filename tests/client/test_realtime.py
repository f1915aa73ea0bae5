"""The SDK's realtime listener (`cordon_client.messaging.realtime`): its pure decisions, and live
delivery through a real uvicorn with real websockets (exactly once, across reconnects,
revocation and tampering)."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from cordon_client import Cordon, Incoming, Listener, RealtimeError
from cordon_client.messaging.realtime import Positions, backoff_delay, close_action, websocket_url
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.messages import cursor as server_cursor
from app.messages.models import StreamItem
from tests import factories as f
from tests.e2e.joining import admit
from tests.e2e.server import Server

PASSPHRASE = "keystore passphrase for tests"
CONTENT = ("alert", "chat")


# -- pure decisions ---------------------------------------------------------------------------


def test_positions_speak_the_server_cursor_format():
    """A cursor the client builds decodes on the server, and the server's decodes here."""
    g1, g2 = uuid.uuid4(), uuid.uuid4()
    positions = Positions({g1: 7, g2: 0})
    assert server_cursor.decode(positions.encode()) == {g1: 7}
    assert Positions.decode(server_cursor.encode({g1: 3, g2: 9})).get(g2) == 9
    assert Positions.decode("garbage").encode() == server_cursor.encode({})


def test_positions_deduplicate_and_never_move_back():
    """An item at or below the position is old; merging takes the furthest of both."""
    g = uuid.uuid4()
    positions = Positions({g: 5})
    assert not positions.is_new(g, 5) and positions.is_new(g, 6)
    positions.merge(Positions({g: 3}))
    assert positions.get(g) == 5
    positions.advance(g, 4)
    assert positions.get(g) == 5
    positions.merge(Positions({g: 8}))
    assert not positions.is_new(g, 8)


def test_backoff_is_exponential_with_full_jitter_and_capped():
    """The delay bound doubles per failure up to the cap; jitter spans the whole range."""
    assert backoff_delay(0, base=0.5, cap=30, rand=lambda: 1.0) == 0.5
    assert backoff_delay(3, base=0.5, cap=30, rand=lambda: 1.0) == 4.0
    assert backoff_delay(40, base=0.5, cap=30, rand=lambda: 1.0) == 30
    assert backoff_delay(5, base=0.5, cap=30, rand=lambda: 0.0) == 0.0


def test_close_codes_decide_retry_rejoin_or_stop():
    """Drops, 1011, 4008 and 4408 retry; 4003 rejoins once; 4001, 4400, 4403 stop."""
    for code in (None, 1000, 1001, 1006, 1011, 4008, 4408):
        assert close_action(code) == "retry"
    assert close_action(4003) == "rejoin"
    for code in (4001, 4400, 4403):
        assert close_action(code) == "stop"


def test_websocket_url_follows_the_http_scheme():
    """http → ws, https → wss, on the fixed endpoint (no token in the URL)."""
    assert websocket_url("http://127.0.0.1:8000/") == "ws://127.0.0.1:8000/api/v1/ws"
    assert websocket_url("https://cordon.example") == "wss://cordon.example/api/v1/ws"


# -- against a real server --------------------------------------------------------------------


class Collector:
    """Iterates a listener in a task and hands its items over with bounded waits."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.queue: asyncio.Queue[Incoming] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        async for item in self.listener:
            await self.queue.put(item)

    async def ready(self, timeout: float = 15) -> None:
        """Wait until the backlog has been delivered on the current connection."""
        await self._bounded(self.listener.caught_up.wait(), timeout, "caught_up")

    async def take(self, count: int, kinds=CONTENT, timeout: float = 15) -> list[Incoming]:
        """The next `count` items of these kinds (others are skipped)."""
        got: list[Incoming] = []
        while len(got) < count:
            item = await self._bounded(self.queue.get(), timeout, f"item {len(got) + 1}/{count}")
            if item.kind in kinds:
                got.append(item)
        return got

    async def _bounded(self, waiting, timeout: float, what: str):
        getter = asyncio.ensure_future(waiting)
        done, _ = await asyncio.wait(
            {getter, self.task}, timeout=timeout, return_when="FIRST_COMPLETED"
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task in done:
            raise AssertionError(
                f"listener ended while waiting for {what}: {self.task.exception()!r}"
            )
        raise AssertionError(f"no {what} within {timeout}s")

    async def close(self) -> None:
        """Stop the pump and close the listener (which persists the cursor)."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, RealtimeError):
            await self.task
        await self.listener.aclose()


@dataclass
class Scene:
    gid: uuid.UUID
    code: str
    coord: Cordon
    alice: Cordon
    alice_id: uuid.UUID


@pytest.fixture
async def scene(server: Server, session: AsyncSession, tmp_path: Path) -> AsyncIterator[Scene]:
    """An active group with a coordinator and one joined member, Alice."""
    admin_u, admin_seed = await f.user(session, admin=True, totp=True)
    coord_u, coord_seed = await f.user(session, totp=True)
    alice_u, _ = await f.user(session)
    clients = []
    for u, seed in ((admin_u, admin_seed), (coord_u, coord_seed), (alice_u, None)):
        c = Cordon(tmp_path / u.username, PASSPHRASE, server=server.base, scrypt_n=2**14)
        await c.login(u.username, f.PASSWORD, pyotp.TOTP(seed).now() if seed else None)
        clients.append(c)
    admin, coord, alice = clients
    gid = await admin.create_group("Operation Live Wire", coordinator_id=coord_u.id)
    await coord.set_group_status(gid, "active")
    code = await coord.open_group_log(gid)
    await admit(coord, alice, gid, alice_u.username)
    await alice.join_group(gid, expected_fingerprint=code)
    yield Scene(gid, code, coord, alice, alice_u.id)
    for c in clients:
        await c.aclose()


async def _delivered_to(coord: Cordon, gid: uuid.UUID, seq: int, user: uuid.UUID) -> None:
    """Wait (bounded) until the sender sees a delivered receipt from `user` for `seq`."""
    for _ in range(100):
        rows = await coord._call("GET", f"/api/v1/groups/{gid}/messages/{seq}/receipts")
        if any(r["user_id"] == str(user) for r in rows):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no delivered receipt for #{seq} within 10s")


@pytest.mark.e2e
async def test_listener_receives_live_items_in_order_and_acknowledges_them(scene: Scene):
    """Items sent while listening arrive decrypted, verified, in seq order, and the sender
    gets a delivered receipt for each."""
    feed = Collector(scene.alice.listen(backoff_base=0.05))
    await feed.ready()
    sent = [await scene.coord.send(scene.gid, f"live {n}", urgent=n == 1) for n in range(3)]
    got = await feed.take(3)
    assert [(i.seq, i.text, i.verified, i.urgent) for i in got] == [
        (sent[0], "live 0", True, False),
        (sent[1], "live 1", True, True),
        (sent[2], "live 2", True, False),
    ]
    coord_id = scene.coord.state.require()[0].user_id
    assert all(str(i.sender_user_id) == coord_id for i in got)
    assert all(i.created_at is not None for i in got)
    for seq in sent:
        await _delivered_to(scene.coord, scene.gid, seq, scene.alice_id)
    await feed.close()


@pytest.mark.e2e
async def test_exactly_once_across_a_reconnect_and_with_receive(scene: Scene):
    """A dropped socket resumes from the cursor with no gap and no duplicate, and `receive()`
    shares the position: nothing the listener handed over comes back, nothing is skipped."""
    feed = Collector(scene.alice.listen(backoff_base=0.05))
    await feed.ready()
    first = [await scene.coord.send(scene.gid, f"m{n}") for n in range(5)]
    before = await feed.take(2)
    await feed.listener.disconnect()
    second = [await scene.coord.send(scene.gid, f"m{n}") for n in range(5, 8)]
    after = await feed.take(6)
    sent = first + second
    assert [i.seq for i in before + after] == sent
    assert [i.text for i in before + after] == [f"m{n}" for n in range(8)]
    assert feed.listener.connections >= 2, "the drop forced a reconnect"
    last = await scene.coord.send(scene.gid, "after the drop")
    assert [i.seq for i in await feed.take(1)] == [last]  # no stale duplicate was queued
    await feed.close()

    assert [i for i in await scene.alice.receive() if i.kind in CONTENT] == []
    offline = await scene.coord.send(scene.gid, "while not listening")
    assert [i.seq for i in await scene.alice.receive() if i.kind in CONTENT] == [offline]
    again = Collector(scene.alice.listen(backoff_base=0.05))
    await again.ready()
    live = await scene.coord.send(scene.gid, "listening again")
    assert [i.seq for i in await again.take(1)] == [live]
    await again.close()


@pytest.mark.e2e
async def test_revoked_device_listener_stops_with_a_clear_error(
    scene: Scene, server: Server, tmp_path: Path
):
    """Revoking a listening device closes its socket (4003) and the listener raises
    `RealtimeError` naming the revocation instead of retrying forever."""
    username = scene.alice.state.require()[0].username
    phone = Cordon(tmp_path / "alice-phone", PASSPHRASE, server=server.base, scrypt_n=2**14)
    await phone.login(username, f.PASSWORD)
    phone_id = await scene.alice.certify_device(scene.gid, phone.link_code())
    await phone.join_group(scene.gid, expected_fingerprint=scene.code)
    feed = Collector(phone.listen(backoff_base=0.05))
    await feed.ready()
    await scene.alice.revoke_device(scene.gid, phone_id)
    with pytest.raises(RealtimeError) as stopped:
        await asyncio.wait_for(feed.task, 15)
    assert stopped.value.code == 4003 and "revoked" in stopped.value.reason
    await feed.listener.aclose()
    await phone.aclose()


@pytest.mark.e2e
async def test_tampered_item_is_yielded_unverified_and_the_listener_goes_on(
    scene: Scene, session: AsyncSession
):
    """An envelope the server altered comes out `verified=False` with a reason; the items
    around it, backlog and live, are still delivered and verified."""
    tampered = await scene.coord.send(scene.gid, "to be tampered with")
    intact = await scene.coord.send(scene.gid, "intact")
    await session.execute(
        update(StreamItem)
        .where(StreamItem.group_id == scene.gid, StreamItem.seq == tampered)
        .values(envelope=b"CXM" + bytes(200))
    )
    await session.commit()
    feed = Collector(scene.alice.listen(backoff_base=0.05))
    bad, good = await feed.take(2)
    assert (bad.seq, bad.verified, bad.content) == (tampered, False, None) and bad.error
    assert (good.seq, good.verified, good.text) == (intact, True, "intact")
    live = await scene.coord.send(scene.gid, "still working")
    [item] = await feed.take(1)
    assert (item.seq, item.verified, item.text) == (live, True, "still working")
    await feed.close()
