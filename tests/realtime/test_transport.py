"""The direct push of `CordonWebSocketProtocol` on a real uvicorn on 127.0.0.1, read by a real
`websockets` client: pushed frames interleave with ASGI sends intact and in order, and the push
declines (so the app falls back to ASGI `send`) whenever a pre-built frame would be wrong or
would bypass flow control."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from app.realtime.transport import PUSH_EXTENSION, CordonWebSocketProtocol, Push, text_frame
from tests.e2e.server import free_port

Handler = Callable[[Push | None, Callable[[str], Awaitable[None]]], Awaitable[None]]


@contextlib.asynccontextmanager
async def uvicorn_with(handler: Handler, *, deflate: bool = False) -> AsyncIterator[str]:
    """uvicorn with our protocol serving a bare ASGI app that accepts, then runs `handler`
    with the push the server offered (or None) and an ASGI text sender."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()
        await send({"type": "websocket.accept"})
        push = scope["extensions"].get(PUSH_EXTENSION, {}).get("push")

        async def send_text(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        await handler(push, send_text)
        while (await receive())["type"] != "websocket.disconnect":
            pass

    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws=CordonWebSocketProtocol,
        ws_per_message_deflate=deflate,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        await task


async def received(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        return [json.loads(await ws.recv()) for _ in range(n)]


def _parsed(wire: bytes) -> tuple[Frame, bytes]:
    """The first frame in `wire`, read as a client reads a server's frames, and what is left."""
    reader = StreamReader()
    reader.feed_data(wire)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        return done.value, bytes(reader.buffer)
    raise AssertionError("the frame is incomplete")


def test_text_frame_is_one_whole_text_frame_to_websockets_parser() -> None:
    for size in (0, 125, 126, 65_535, 65_536, 300_000):  # every length encoding of RFC 6455
        text = "é" * (size // 2)
        frame, rest = _parsed(text_frame(text))
        assert (frame.opcode, frame.fin, frame.data.decode(), rest) == (
            Opcode.TEXT,
            True,
            text,
            b"",
        )


async def test_pushed_frames_arrive_intact_and_in_order_with_asgi_sends() -> None:
    sizes = [10, 200, 70_000, 5, 300_000]
    outcomes: list[bool] = []

    async def handler(push: Push | None, send_text: Callable[[str], Awaitable[None]]) -> None:
        assert push is not None
        for n, size in enumerate(sizes):
            text = json.dumps({"n": n, "pad": "x" * size})
            if n % 2:
                await send_text(text)
            else:
                outcomes.append(push(text_frame(text)))

    async with uvicorn_with(handler) as url, connect(url, compression=None, max_size=None) as ws:
        frames = await received(ws, len(sizes))
    assert [f["n"] for f in frames] == list(range(len(sizes)))
    assert [len(f["pad"]) for f in frames] == sizes
    assert outcomes == [True, True, True]


async def test_no_push_when_a_compressing_extension_is_negotiated() -> None:
    offered: list[Push | None] = []

    async def handler(push: Push | None, send_text: Callable[[str], Awaitable[None]]) -> None:
        offered.append(push)
        await send_text('{"n": 0}')

    async with uvicorn_with(handler, deflate=True) as url:
        async with connect(url, compression="deflate") as ws:
            assert await received(ws, 1) == [{"n": 0}]
        async with connect(url, compression=None) as ws:
            assert await received(ws, 1) == [{"n": 0}]
    assert offered[0] is None  # deflate negotiated: pre-built frames would be wrong
    assert offered[1] is not None  # the same server, a client without deflate


async def test_push_declines_once_the_peer_closed() -> None:
    after_close: list[bool] = []
    closed = asyncio.Event()

    async def handler(push: Push | None, _send: Callable[[str], Awaitable[None]]) -> None:
        assert push is not None
        await closed.wait()  # the client's close returned: the server answered its close frame
        after_close.append(push(text_frame("{}")))

    async with uvicorn_with(handler) as url:
        async with connect(url, compression=None) as ws:
            await ws.close()
        closed.set()
        async with asyncio.timeout(10):
            while not after_close:
                await asyncio.sleep(0.01)
    assert after_close == [False]


@pytest.mark.parametrize("frame_kib", [1, 256])
async def test_push_declines_when_the_peer_stops_reading(frame_kib: int) -> None:
    """Flow control: past the transport's high-water mark the push writes nothing more, so the
    app's ASGI send waits (and its send timeout finds the slow consumer)."""
    written: list[int] = []
    frame = text_frame(json.dumps({"pad": "x" * frame_kib * 1024}))

    async def handler(push: Push | None, _send: Callable[[str], Awaitable[None]]) -> None:
        assert push is not None
        total = 0
        while total < 256 * 1024 * 1024:
            if not push(frame):
                break
            total += len(frame)
            await asyncio.sleep(0)  # let the transport try to write
        written.append(total)

    async with uvicorn_with(handler) as url:
        async with connect(url, compression=None, max_size=None, max_queue=1) as ws:
            ws.transport.pause_reading()  # a peer that stopped reading
            async with asyncio.timeout(30):
                while not written:
                    await asyncio.sleep(0.01)
            ws.transport.abort()  # no closing handshake with a peer that does not read
    assert 0 < written[0] < 256 * 1024 * 1024
