"""The websocket endpoint's serving loop in-process: the reader runs in the socket's own task,
and closes, kicks, idles, failures and slow consumers all end it at once without a task left."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from app.realtime.connection import Batch, Connection
from app.realtime.events import ItemPublished, Kick
from app.realtime.hub import Registry, Routing, Viewer
from app.realtime.router import Refused, _serve
from app.realtime.transport import PUSH_EXTENSION, text_frame

GROUP = uuid.uuid4()
VIEWER = Viewer(user_id=uuid.uuid4(), device_id=uuid.uuid4(), groups={GROUP: datetime.now(UTC)})


class Source:
    """A stream source with nothing to read; `fail` makes the next read raise."""

    def __init__(self) -> None:
        self.reads = 0
        self.fail: Exception | None = None

    async def authenticate(self, token: str) -> Viewer | None:
        return VIEWER if token == "good" else None

    async def reload(self, viewer: Viewer) -> Viewer | None:
        return viewer

    async def read(self, _viewer: Viewer, positions: Mapping[uuid.UUID, int], _limit: int) -> Batch:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        return Batch(frames=[], positions=dict(positions), more=False)

    async def heads(self, _group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        return {}

    def parse_cursor(self, _cursor: str | None) -> dict[uuid.UUID, int]:
        return {}

    def encode_cursor(self, _positions: Mapping[uuid.UUID, int]) -> str:
        return "c1.e30"

    async def receipt(self, _viewer: Viewer, _body: dict[str, object]) -> str | None:
        return None


class Socket:
    """The part of a Starlette `WebSocket` the serving loop uses; sends wait for `gate`."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.scope: dict[str, Any] = {}
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.gate: asyncio.Event | None = None
        self.pushed: list[dict[str, Any]] = []
        self.push_accepts = True

    def offer_push(self) -> None:
        """Offer the server's direct push, as `CordonWebSocketProtocol` does."""
        self.scope["extensions"] = {PUSH_EXTENSION: {"push": self.push}}

    def push(self, wire: bytes) -> bool:
        if not self.push_accepts:
            return False
        self.pushed.append(json.loads(wire[2:] if wire[1] < 126 else wire[4:]))
        return True

    def frame(self, body: dict[str, Any]) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": json.dumps(body)})

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send_text(self, text: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append(json.loads(text))

    async def wait_for(self, kind: str) -> None:
        async with asyncio.timeout(2):
            while not any(frame["type"] == kind for frame in self.sent):
                await asyncio.sleep(0.005)


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until `condition()` holds; a bound against hanging, not a speed check."""
    async with asyncio.timeout(2):
        while not condition():
            await asyncio.sleep(0.001)


@asynccontextmanager
async def serving(
    idle: float = 60, send_timeout: float = 10, queue_size: int = 8, push: bool = False
) -> AsyncIterator[tuple[Socket, "asyncio.Task[tuple[int, str]]", Connection, Source]]:
    """`_serve` on an authenticated fake socket, caught up; fails if it leaves a task behind."""
    before = asyncio.all_tasks()
    source = Source()
    registry: Registry[Connection] = Registry()
    fanout = SimpleNamespace(source=source, registry=registry)
    settings = SimpleNamespace(
        ws_auth_seconds=2,
        ws_idle_seconds=idle,
        ws_queue_size=queue_size,
        ws_send_timeout_seconds=send_timeout,
    )
    socket = Socket()
    if push:
        socket.offer_push()
    socket.frame({"type": "auth", "token": "good"})
    task = asyncio.create_task(_serve(socket, fanout, settings))  # type: ignore[arg-type]
    await socket.wait_for("caught_up")
    (conn,) = list(registry)
    try:
        yield socket, task, conn, source
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)  # let the writer's done callback run
        assert asyncio.all_tasks() - before == set(), "a helper task outlived the socket"
        assert len(registry) == 0


async def test_an_idle_socket_runs_one_helper_task():
    """Once caught up, a socket is its own task plus one writer: the reader is folded in."""
    before = asyncio.all_tasks()
    async with serving() as (_, task, _conn, _):
        assert len(asyncio.all_tasks() - before) == 2
        assert not task.done()


async def test_a_kick_ends_a_reader_blocked_in_receive_at_once():
    """A kick closes with 4003 within a loop iteration or two, though no client frame comes."""
    async with serving() as (_, task, conn, _):
        conn.offer(Kick(device_id=VIEWER.device_id))
        async with asyncio.timeout(2):  # a bound against hanging, not a speed check
            assert await task == (4003, "access revoked")


async def test_a_kick_spares_the_session_it_names():
    """A password change closes the user's other sessions, not the one that made it."""
    async with serving() as (_, task, conn, _):
        token_id = uuid.uuid4()
        conn.viewer = replace(VIEWER, token_id=token_id)
        conn.offer(Kick(user_id=VIEWER.user_id, keep_token_id=token_id))
        await asyncio.sleep(0.05)
        assert not task.done() and conn.closed is None
        conn.offer(Kick(user_id=VIEWER.user_id, keep_token_id=uuid.uuid4()))
        async with asyncio.timeout(2):  # a bound against hanging, not a speed check
            assert await task == (4003, "access revoked")


async def test_a_kick_during_a_frame_is_not_lost():
    """A kick that lands while the reader handles a frame still ends it (the idle deadline
    must not be pushed back over the expiry)."""
    async with serving() as (socket, task, conn, _):
        socket.frame({"type": "ping"})  # the reader is woken, but runs after the kick
        conn.shut(4003, "access revoked")
        async with asyncio.timeout(2):  # a bound against hanging, not a speed check
            assert await task == (4003, "access revoked")


async def test_ping_keeps_the_socket_open_past_the_idle_timeout():
    """Every client frame moves the idle deadline; silence then closes with 4408."""
    async with serving(idle=1.0) as (socket, task, _, _):
        for _ in range(5):  # 1.5 s in all, each ping well inside the idle timeout
            socket.frame({"type": "ping"})
            await asyncio.sleep(0.3)
        assert not task.done()
        assert [f["type"] for f in socket.sent].count("pong") == 5
        with pytest.raises(Refused) as refused:
            async with asyncio.timeout(5):
                await task
        assert refused.value.code == 4408


async def test_bad_frames_and_disconnects_end_the_socket():
    """An unknown frame type raises 4400 from the reader; a client leaving ends it quietly."""
    async with serving() as (socket, task, _, _):
        socket.frame({"type": "launch"})
        with pytest.raises(Refused) as refused:
            await asyncio.wait_for(task, 1)
        assert refused.value.code == 4400
    async with serving() as (socket, task, _, _):
        socket.inbox.put_nowait({"type": "websocket.disconnect", "code": 1001})
        with pytest.raises(WebSocketDisconnect):
            await asyncio.wait_for(task, 1)


async def test_a_writer_failure_ends_the_reader_with_its_error():
    """An error in the writer (here the database during a catch-up) ends the socket at once
    and reaches the endpoint, which logs it and closes with 1011."""
    async with serving() as (_, task, conn, source):
        source.fail = RuntimeError("database gone")
        conn.resync()
        with pytest.raises(RuntimeError, match="database gone"):
            await asyncio.wait_for(task, 1)


async def test_a_slow_consumer_is_closed_with_4008():
    """A frame that cannot be written within the send timeout closes the socket with 4008."""
    async with serving(send_timeout=0.1) as (socket, task, conn, _):
        socket.gate = asyncio.Event()  # never set: the peer stopped reading
        conn.offer('{"type": "pong"}')
        async with asyncio.timeout(1):
            code, _ = await task
        assert code == 4008


async def test_overflow_is_recovered_from_the_database_and_the_buffer_released():
    """Items beyond the bound are dropped and re-read once the queue drains; an idle
    connection then holds no buffer, and a resync dropped on overflow blocks no later one."""
    async with serving(queue_size=2) as (socket, _, conn, source):
        socket.gate = asyncio.Event()
        conn.offer('{"type": "pong", "n": 0}')
        await eventually(lambda: not conn._queue)  # the writer took it and waits on the peer
        for n in range(1, 4):
            conn.offer(f'{{"type": "pong", "n": {n}}}')
        conn.resync()  # the queue is full: dropped, covered by the overflow catch-up
        reads = source.reads
        socket.gate.set()
        await eventually(lambda: source.reads == reads + 1 and conn._queue is None)
        assert [f["n"] for f in socket.sent if f["type"] == "pong"] == [0, 1, 2]
        conn.resync()
        await eventually(lambda: source.reads == reads + 2)


def paced_connection(
    delays: list[float], send_timeout: float
) -> tuple[Connection, list[str], list[float]]:
    """A connection whose peer takes `delays[i]` seconds to accept frame i; also returns the
    frames taken and the loop time each send began."""
    sent: list[str] = []
    began: list[float] = []

    async def send(frame: str) -> None:
        began.append(asyncio.get_running_loop().time())
        await asyncio.sleep(delays[len(sent)])
        sent.append(frame)

    conn = Connection(
        viewer=VIEWER,
        positions={},
        source=Source(),
        registry=Registry(),
        send=send,
        queue_size=8,
        send_timeout=send_timeout,
    )
    return conn, sent, began


async def test_a_page_slower_than_the_timeout_is_sent_when_every_frame_is_in_time():
    """The send timeout bounds each frame of a catch-up page, not the page as a whole."""
    conn, sent, _ = paced_connection([0.25] * 6, send_timeout=1.0)  # 1.5 s in all
    await conn.send_all([f"frame {i}" for i in range(6)])
    assert sent == [f"frame {i}" for i in range(6)]
    assert conn.closed is None


async def test_a_stalled_frame_in_a_page_closes_with_4008_in_time():
    """One frame the peer does not take within the timeout ends the page and the socket."""
    conn, sent, began = paced_connection([0.05, 0.05, 0.05, 60.0, 0.0], send_timeout=0.2)
    with pytest.raises(TimeoutError):
        await conn.send_all([f"frame {i}" for i in range(5)])
    assert sent == ["frame 0", "frame 1", "frame 2"]
    assert conn.closed is not None and conn.closed[0] == 4008
    stalled_for = asyncio.get_running_loop().time() - began[3]
    assert 0.18 <= stalled_for < 5.0  # at least 90 % of the timeout, not the 60 s stall


def live(seq: int, recipients: frozenset[uuid.UUID] | None = None) -> tuple[ItemPublished, bytes]:
    """A live item of GROUP and its pre-built frame, as the fan-out offers them."""
    frame = json.dumps({"type": "item", "seq": seq})
    routing = Routing(GROUP, seq, datetime.now(UTC), recipients=recipients)
    return ItemPublished(routing=routing, frame=frame), text_frame(frame)


async def test_live_items_are_pushed_directly_while_the_writer_waits() -> None:
    async with serving(push=True) as (socket, _task, conn, _source):
        await eventually(conn._writer_idle)
        conn.offer(*live(1))
        conn.offer(*live(2, recipients=frozenset({uuid.uuid4()})))  # not for this device
        conn.offer(*live(3))
        conn.offer(*live(3))  # a duplicate notification
        assert [f["seq"] for f in socket.pushed] == [1, 3]  # at once, not on a later tick
        assert conn.positions[GROUP] == 3
        assert not any(f["type"] == "item" for f in socket.sent)
        assert conn._writer_idle()  # the writer was never woken


async def test_a_declined_push_leaves_the_item_and_its_successors_to_the_writer() -> None:
    async with serving(push=True) as (socket, _task, conn, _source):
        await eventually(conn._writer_idle)
        socket.push_accepts = False  # e.g. the peer's write buffer is full
        socket.gate = asyncio.Event()  # and the ASGI send waits for it to drain
        conn.offer(*live(1))
        socket.push_accepts = True
        conn.offer(*live(2))  # the writer is busy with 1: queued behind it, not pushed ahead
        socket.gate.set()
        await eventually(lambda: conn.positions.get(GROUP) == 2)
        assert [f["seq"] for f in socket.sent if f["type"] == "item"] == [1, 2]
        assert socket.pushed == []
        await eventually(conn._writer_idle)
        conn.offer(*live(3))
        assert [f["seq"] for f in socket.pushed] == [3]  # direct again once the writer waits


async def test_a_gap_in_live_items_is_filled_by_the_writer_from_the_database() -> None:
    async with serving(push=True) as (socket, _task, conn, source):
        await eventually(conn._writer_idle)
        reads = source.reads
        conn.offer(*live(5))  # 1–4 never arrived live
        await eventually(lambda: source.reads > reads)
        assert socket.pushed == []


async def test_without_the_server_push_items_go_through_the_writer() -> None:
    async with serving() as (socket, _task, conn, _source):
        await eventually(conn._writer_idle)
        conn.offer(*live(1))
        await eventually(lambda: any(f["type"] == "item" for f in socket.sent))
        assert socket.pushed == []
