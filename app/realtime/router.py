"""`/api/v1/ws`: authenticate, resume from a cursor, then push every readable stream item.

Protocol (JSON text frames; see docs/REALTIME.md):
    client → {"type": "auth", "token"?: str, "cursor"?: str}   first frame, within 10 s; the
             token may instead come in `Authorization: Bearer` or the subprotocol
             `cordon.bearer.<token>` (offered next to `cordon.v1`), never in the URL.
    server → {"type": "ready", "device_id": ...}
    server → {"type": "item", ...}   every readable item after the cursor, then live ones
    server → {"type": "caught_up", "cursor": str}   once the backlog is sent
    client → {"type": "receipt", "group_id", "seq", "status": "delivered"|"read", "ts", "sig"}
    client → {"type": "receipts", "receipts": [receipt, ...]}   1 to 500, recorded all or none
    client → {"type": "ping"}  server → {"type": "pong"}
Close codes: 4001 unauthenticated, 4003 access lost (revoked, disabled, removed, group closed),
4008 slow consumer, 4400 bad frame or cursor, 4403 origin not allowed, 4408 idle.
"""

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from app.core.body import MalformedJSON, decode_json
from app.core.config import Settings
from app.core.errors import CordonError, Unauthenticated
from app.realtime.connection import Connection, cancel
from app.realtime.events import (
    CLOSE_BAD_FRAME,
    CLOSE_IDLE,
    CLOSE_ORIGIN,
    CLOSE_UNAUTHENTICATED,
)
from app.realtime.fanout import Fanout
from app.realtime.transport import PUSH_EXTENSION

STREAM_PATH = "/api/v1/ws"
logger = logging.getLogger("cordon.realtime")
SUBPROTOCOL = "cordon.v1"
TOKEN_SUBPROTOCOL = "cordon.bearer."
MAX_CLIENT_FRAME = 65_536


class Refused(Exception):
    """Close the socket with `code` (raised inside the handler, never escapes it)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    origin = websocket.headers.get("origin")
    return origin is None or "*" in settings.allowed_origins or origin in settings.allowed_origins


def _header_token(websocket: WebSocket) -> str | None:
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    for proto in websocket.scope.get("subprotocols", []):
        if isinstance(proto, str) and proto.startswith(TOKEN_SUBPROTOCOL):
            return proto[len(TOKEN_SUBPROTOCOL) :]
    return None


def _parse(text: str | None) -> dict[str, Any]:
    """A client frame through the app's one JSON decoder (`app.core.body`: depth, strings,
    numbers), under the frame size limit; 4400 otherwise."""
    if text is None or len(text) > MAX_CLIENT_FRAME:
        raise Refused(CLOSE_BAD_FRAME, "expected a JSON text frame under 64 KiB")
    try:
        body = decode_json(text)
    except MalformedJSON as exc:
        raise Refused(CLOSE_BAD_FRAME, exc.detail[:120]) from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise Refused(CLOSE_BAD_FRAME, "a frame is a JSON object with a 'type'")
    return body


def _frame(message: Message) -> dict[str, Any]:
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is None:
        raise Refused(CLOSE_BAD_FRAME, "binary frames are not part of the protocol")
    return _parse(message["text"])


async def _receive(websocket: WebSocket, timeout: float) -> dict[str, Any]:
    try:
        async with asyncio.timeout(timeout):  # not wait_for: no extra task per idle socket
            message = await websocket.receive()
    except TimeoutError:
        raise Refused(CLOSE_IDLE, "idle timeout") from None
    return _frame(message)


async def _authenticate(websocket: WebSocket, fanout: Fanout, settings: Settings) -> Connection:
    try:
        first = await _receive(websocket, settings.ws_auth_seconds)
    except Refused as refused:
        if refused.code == CLOSE_IDLE:
            raise Refused(CLOSE_UNAUTHENTICATED, "no auth frame in time") from None
        raise
    if first["type"] != "auth":
        raise Refused(CLOSE_UNAUTHENTICATED, "the first frame must be 'auth'")
    token = first.get("token") or _header_token(websocket)
    assert fanout.source is not None
    viewer = await fanout.source.authenticate(token) if isinstance(token, str) else None
    if viewer is None:
        raise Refused(CLOSE_UNAUTHENTICATED, "invalid or expired token")
    cursor = first.get("cursor")
    try:
        positions = fanout.source.parse_cursor(cursor if isinstance(cursor, str) else None)
    except ValueError as exc:
        raise Refused(CLOSE_BAD_FRAME, str(exc)) from None
    positions = {g: p for g, p in positions.items() if g in viewer.groups}

    return Connection(
        viewer=viewer,
        positions=positions,
        source=fanout.source,
        registry=fanout.registry,
        send=websocket.send_text,
        queue_size=settings.ws_queue_size,
        send_timeout=settings.ws_send_timeout_seconds,
        push=websocket.scope.get("extensions", {}).get(PUSH_EXTENSION, {}).get("push"),
    )


async def _writer(conn: Connection) -> None:
    await conn.catch_up()
    source = conn.source
    caught_up = {"type": "caught_up", "cursor": source.encode_cursor(conn.positions)}
    await conn.send(json.dumps(caught_up))
    await conn.run()


async def _answer(conn: Connection, frame: dict[str, Any]) -> None:
    if frame["type"] == "ping":
        conn.offer(json.dumps({"type": "pong"}))
    elif frame["type"] in ("receipt", "receipts"):
        error = await conn.source.receipt(conn.viewer, frame)
        if error is not None:
            conn.offer(json.dumps({"type": "error", "code": error, "ref": _receipt_ref(frame)}))
    else:
        raise Refused(CLOSE_BAD_FRAME, f"unknown frame type {frame['type'][:32]!r}")


def _receipt_ref(frame: dict[str, Any]) -> object:
    """What an error frame names: the receipt's seq, or a `receipts` frame's seqs."""
    if frame["type"] == "receipt":
        return frame.get("seq")
    receipts = frame.get("receipts")
    if not isinstance(receipts, list):
        return None
    return [r.get("seq") if isinstance(r, dict) else None for r in receipts[:500]]


async def _read(conn: Connection, websocket: WebSocket, idle: float) -> None:
    """Answer client frames in the socket's own task until the client leaves or misbehaves
    (raises), stays silent for `idle` seconds (4408), or the connection stops (returns:
    `conn.shut()` or the end of the writer expires the deadline at once, even during a
    receive). No reader task, `until_closed` waiter or `asyncio.wait` per socket: about
    6 KiB of each idle socket's memory (docs/benchmarks.md)."""
    loop = asyncio.get_running_loop()
    deadline = asyncio.timeout(idle)  # one scope for the socket's life, moved on every frame
    try:
        async with deadline:
            conn.stop_reader_with(deadline)
            while True:
                await _answer(conn, _frame(await websocket.receive()))
                if conn.stopped:  # moving the deadline now would undo the expiry
                    return
                deadline.reschedule(loop.time() + idle)
    except TimeoutError:
        if not deadline.expired():
            raise
        if not conn.stopped:
            raise Refused(CLOSE_IDLE, "idle timeout") from None
    finally:
        conn.stop_reader_with(None)


async def _serve(websocket: WebSocket, fanout: Fanout, settings: Settings) -> tuple[int, str]:
    conn = await _authenticate(websocket, fanout, settings)
    fanout.registry.add(conn, conn.viewer)
    writer: asyncio.Task[None] | None = None
    try:
        await conn.send(json.dumps({"type": "ready", "device_id": str(conn.viewer.device_id)}))
        writer = asyncio.create_task(_writer(conn))
        writer.add_done_callback(conn.writer_done)
        try:
            await _read(conn, websocket, settings.ws_idle_seconds)
        except Exception:
            if conn.closed is None:
                raise
        if conn.closed is not None:  # kicked or too slow: that reason wins over a racing error
            return conn.closed
        if conn.failure is not None:
            raise conn.failure  # the writer's error, handled as a reader's error would be
        return 1011, "stream ended"
    finally:
        fanout.registry.remove(conn)
        await cancel(writer)


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    """Authenticated push of every stream item the device may read (protocol above).

    A plain ASGI app that `app.main.CordonApp` calls for `STREAM_PATH` before FastAPI's
    middleware and routing: a socket stays open for hours, and those layers held ~13 KiB of
    frames, exit stacks and wrappers per idle socket (docs/benchmarks.md). HTTP middleware
    has nothing to do here (no body, no response headers); errors are handled below."""
    websocket = WebSocket(scope, receive, send)
    settings: Settings = websocket.app.state.settings
    fanout: Fanout = websocket.app.state.realtime
    if not _origin_allowed(websocket, settings):
        await websocket.close(CLOSE_ORIGIN, "origin not allowed")
        return
    await fanout.start()
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    try:
        code, reason = await _serve(websocket, fanout, settings)
    except Refused as refused:
        code, reason = refused.code, refused.reason
    except WebSocketDisconnect:
        return
    except CordonError as refused:  # a client's mistake found past the frame (a cursor)
        code = CLOSE_UNAUTHENTICATED if isinstance(refused, Unauthenticated) else CLOSE_BAD_FRAME
        reason = refused.detail[:120]
    except Exception:
        logger.exception("websocket handler failed")
        code, reason = 1011, "internal error"
    if websocket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code, reason), timeout=2)
