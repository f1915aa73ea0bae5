"""uvicorn's websocket protocol with a direct push: one pre-framed item written straight to the
socket's transport, without an ASGI `send` per socket.

A pushed item is the same text frame for every reader (server frames are not masked), so the
fan-out frames it once and each connection only writes those bytes. Through ASGI the same frame
cost a writer-task wake-up, the middleware chain, and re-framing for every socket: ~45–58 µs
per frame against ~10 µs for `websockets.broadcast()` (docs/benchmarks.md). The server offers
the push to the app as the ASGI extension `cordon.push`; the app falls back to ASGI `send`
whenever the push declines (another server, a compressing extension, a closing socket, a full
write buffer), so correctness never depends on it.

Tens of thousands of these sit idle, so the protocol also carries less per socket than
uvicorn's: its receive queue and write gate are minimal (an `asyncio.Queue` and an
`asyncio.Event` keep ~4 KiB of deques between them), and it lets go of the handshake's
request and response once the socket is accepted (the response's headers, ~1.6 KiB; the
request stays referenced by the websockets parser).

Liveness: the kernel's send buffer absorbs megabytes before the transport's buffer passes its
high-water mark, so a reader that stopped reading could sit for minutes with frames queued and
no send ever timing out. The protocol pings every `CORDON_WS_PING_SECONDS`; a ping is answered
only once the peer has read everything written before it, so a pong that does not arrive within
`CORDON_WS_PONG_TIMEOUT_SECONDS` marks a slow (or dead) consumer: the socket gets close 4008
behind the queued frames, the app is told at once (its reader sees the disconnect, the fan-out
forgets the socket), and the TCP connection is aborted `CORDON_WS_CLOSE_SECONDS` later if the
peer has not read up to the close frame by then. An app close while the buffer is full is
written the same way instead of waiting for a drain that may never come.

`cordon-server serve` runs uvicorn with `--ws app.realtime.transport:CordonWebSocketProtocol`.
"""

import asyncio
from collections.abc import Callable
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State

from app.core.config import get_settings
from app.realtime.events import CLOSE_SLOW_CONSUMER

PUSH_EXTENSION = "cordon.push"
Push = Callable[[bytes], bool]


def text_frame(text: str) -> bytes:
    """The wire bytes of one unmasked, uncompressed text frame, as a server sends it."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class _Inbox:
    """The receive queue uvicorn's protocol needs: `put_nowait`, `empty` and `get` for its one
    reader (the app's `receive`), holding nothing while empty."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            if self._waiter is not None:
                raise RuntimeError("a websocket's receive has one reader at a time")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Gate:
    """The write gate uvicorn's protocol needs (`is_set`, `set`, `clear`, `wait`): open unless
    the transport's buffer is above its high-water mark."""

    __slots__ = ("_open", "_waiters")

    def __init__(self) -> None:
        self._open = True
        self._waiters: list[asyncio.Future[None]] = []

    def is_set(self) -> bool:
        return self._open

    def set(self) -> None:
        self._open = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._open = False

    async def wait(self) -> None:
        if self._open:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class CordonWebSocketProtocol(WebSocketsSansIOProtocol):
    """`WebSocketsSansIOProtocol` plus `push`, offered to the app in the ASGI scope, and less
    memory per idle socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Gate()  # type: ignore[assignment]
        settings = get_settings()
        self.ping_interval = settings.ws_ping_seconds
        self.ping_timeout = settings.ws_pong_timeout_seconds
        self.close_timeout = settings.ws_close_seconds

    def handle_connect(self, event: Request) -> None:
        """Accept as uvicorn does, then offer `push` unless an extension (permessage-deflate)
        was negotiated: a pre-built frame is only valid on a socket that frames plainly."""
        super().handle_connect(event)
        if not self.handshake_complete and not self.conn.extensions:
            self.scope["extensions"][PUSH_EXTENSION] = {"push": self.push}

    async def send(self, message: ASGISendEvent) -> None:
        """Send as uvicorn does; once the handshake is answered, drop its request and
        response, which nothing reads again. A close is written at once, even above the
        high-water mark: waiting for a drain first would wait forever on a stalled reader."""
        if message["type"] == "websocket.close" and self._open():
            self._close_behind_queue(message.get("code", 1000), message.get("reason") or "")
            return
        await super().send(message)
        if message["type"] == "websocket.accept" and hasattr(self, "response"):
            del self.request, self.response

    def _open(self) -> bool:
        return (
            self.handshake_complete
            and self.initial_response is None
            and not self.close_sent
            and not self.disconnected
            and self.conn.state is State.OPEN
            and not self.transport.is_closing()
        )

    def _close_behind_queue(self, code: int, reason: str) -> None:
        """Queue a close frame behind whatever is buffered, tell the app, and abort the TCP
        connection if the peer has not answered the close within `close_timeout`."""
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    def keepalive_timeout(self) -> None:
        """No pong in time: the peer has not read what was written before the ping."""
        self.pong_timer = None
        self.pending_ping_payload = None
        if self._open():
            self._close_behind_queue(CLOSE_SLOW_CONSUMER, "slow consumer: no pong in time")

    def push(self, frame: bytes) -> bool:
        """Write a pre-built frame if the socket is open and its write buffer is below the
        high-water mark; False (nothing written) tells the caller to use ASGI `send`, which
        waits for the buffer to drain and so detects a slow consumer."""
        if (
            self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or not self.writable.is_set()
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(frame)
        return True
