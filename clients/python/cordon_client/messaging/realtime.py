"""Live delivery over `/api/v1/ws`: `Listener`, an async iterator of verified `Incoming` items.

The pure parts (the cursor `Positions`, `backoff_delay`, `close_action`) hold the decisions and
are tested without a socket; `Listener` only moves frames. The listener and `Cordon.receive()`
share one position, the keystore's `sync-cursor`, so an item reaches the application once
whichever path carries it. See docs/REALTIME.md for the protocol.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import httpx

from cordon_client.exceptions import ApiError, RealtimeError
from cordon_client.messaging.client import (
    CONTENT_KINDS,
    KEY_KINDS,
    OWN_RECEIPT,
    Incoming,
    MessagingClient,
    item_meta,
)
from cordon_client.messaging.recovery import parked_items, retry_parked

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

# `websockets` (~60 ms to import) is imported where a socket is opened or closed: a `cordon`
# command that never listens does not pay for it (issue 12, "Speed").

CURSOR_PREFIX = "c1."
CURSOR_SECRET = "sync-cursor"
CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_BAD_FRAME = 4400
CLOSE_ORIGIN = 4403
Action = Literal["retry", "rejoin", "stop"]


# -- pure decisions ---------------------------------------------------------------------------


class Positions:
    """The last seq this device has handed over, per group; the listener's dedup and cursor."""

    def __init__(self, positions: Mapping[uuid.UUID, int] | None = None) -> None:
        self._at: dict[uuid.UUID, int] = dict(positions or {})

    @classmethod
    def decode(cls, cursor: str | None) -> Positions:
        """Positions from a server cursor (`c1.<base64url JSON>`); empty for none or garbage."""
        if not cursor or not cursor.startswith(CURSOR_PREFIX):
            return cls()
        raw = cursor[len(CURSOR_PREFIX) :]
        try:
            body = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
            return cls({uuid.UUID(hex=g): int(s) for g, s in body.items()})
        except (ValueError, TypeError, AttributeError):
            return cls()

    def encode(self) -> str:
        """The cursor the server resumes from (the same format the server issues)."""
        body = json.dumps(
            {g.hex: s for g, s in sorted(self._at.items()) if s > 0}, separators=(",", ":")
        )
        return CURSOR_PREFIX + base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    def merge(self, other: Positions) -> None:
        """Move forward to wherever `other` is ahead; never move back."""
        for group, seq in other._at.items():
            if seq > self._at.get(group, 0):
                self._at[group] = seq

    def is_new(self, group_id: uuid.UUID, seq: int) -> bool:
        """Whether (group, seq) lies beyond what was already handed over."""
        return seq > self._at.get(group_id, 0)

    def advance(self, group_id: uuid.UUID, seq: int) -> None:
        """Record that (group, seq) was handed over."""
        self._at[group_id] = max(seq, self._at.get(group_id, 0))

    def get(self, group_id: uuid.UUID) -> int:
        """The last seq handed over in a group (0 for none)."""
        return self._at.get(group_id, 0)


def backoff_delay(
    attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt))."""
    return rand() * min(cap, base * 2.0 ** min(attempt, 32))


def close_action(code: int | None) -> Action:
    """What a close code asks of the client: retry later, rejoin at once, or stop."""
    if code == CLOSE_FORBIDDEN:
        return "rejoin"  # revoked device (the rejoin then fails) or removed from one group
    if code in (CLOSE_UNAUTHENTICATED, CLOSE_BAD_FRAME, CLOSE_ORIGIN):
        return "stop"
    return "retry"  # 1000/1001/1006/1011, 4008 slow consumer, 4408 idle


def websocket_url(server: str) -> str:
    """The websocket endpoint of an http(s) base URL."""
    scheme, _, rest = server.rstrip("/").partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/api/v1/ws"


class _Drop(Exception):
    """The connection or a request it depends on failed transiently: reconnect and resume."""


# -- the listener ---------------------------------------------------------------------------


class Listener:
    """Live items for one `Cordon`, verified and decrypted, each exactly once, in seq order.

    Use as ``async with cordon.listen() as items: async for item in items: ...``. The
    listener resumes from the shared cursor, reconnects with exponential backoff and full
    jitter after drops (including 1011, 4008 and 4408), acknowledges verified content with
    `delivered` receipts, and yields forged or tampered items with `verified=False` and the
    reason instead of stopping. It stops with `RealtimeError` when the server no longer
    accepts this device (4001, or 4003 followed by a refused reconnect).
    """

    def __init__(
        self,
        cordon: MessagingClient,
        *,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retries: int | None = None,
        ping_interval: float = 30.0,
        persist_interval: float = 1.0,
        open_timeout: float = 10.0,
    ) -> None:
        """Prepare a listener; nothing connects until iteration starts.

        Args:
            cordon: the logged-in client whose device listens.
            backoff_base: first reconnect delay bound, in seconds (doubles per failure).
            backoff_cap: the largest reconnect delay bound, in seconds.
            max_retries: consecutive failed connections before `RealtimeError`; None = forever.
            ping_interval: seconds of silence before an application `ping` (keeps the socket
                clear of the server's idle timeout).
            persist_interval: at most this often the keystore (cursor + ratchets) is written
                while live; it is always written on caught-up and on close.
            open_timeout: seconds allowed for the handshake.
        """
        self._cordon = cordon
        self._base, self._cap, self._max_retries = backoff_base, backoff_cap, max_retries
        self._ping_interval, self._persist_interval = ping_interval, persist_interval
        self._open_timeout = open_timeout
        self._positions = Positions.decode(self._stored_cursor())
        self._ws: ClientConnection | None = None
        self._gen: AsyncGenerator[Incoming, None] | None = None
        self._saved_at = time.monotonic()
        self._refused: set[tuple[uuid.UUID, int]] = set()
        self.connections = 0
        """How many times the server accepted this listener's socket (1 + reconnects)."""
        self.caught_up = asyncio.Event()
        """Set whenever the backlog has been delivered on the current connection."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Incoming:
        if self._gen is None:
            self._gen = self._run()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Close the socket and write the cursor and ratchet state to the keystore."""
        if self._gen is not None:
            await self._gen.aclose()
        self._persist(force=True)

    async def disconnect(self) -> None:
        """Drop the current socket as a network failure would; the listener reconnects."""
        if self._ws is not None:
            await self._ws.close(1001, "client dropped the connection")

    # -- internals ------------------------------------------------------------------------

    def _stored_cursor(self) -> str | None:
        raw = self._cordon.state.secret(CURSOR_SECRET)
        return raw.decode() if raw else None

    def _persist(self, *, force: bool = False) -> None:
        """Share the position with `receive()` now; write the keystore when due."""
        shared = Positions.decode(self._stored_cursor())
        shared.merge(self._positions)
        self._positions = shared
        self._cordon.state.set_secret(CURSOR_SECRET, shared.encode().encode())
        now = time.monotonic()
        if force or now - self._saved_at >= self._persist_interval:
            self._cordon._save()
            self._saved_at = now

    async def _run(self) -> AsyncGenerator[Incoming, None]:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        failures, refused_reason = 0, None
        while True:
            before, code, reason = self.connections, None, ""
            try:
                async for item in self._connection():
                    yield item
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                reason = exc.rcvd.reason if exc.rcvd else ""
            except InvalidStatus as exc:
                status = exc.response.status_code
                code = CLOSE_ORIGIN if status == 403 else None
                reason = f"handshake refused with HTTP {status}"
            except (OSError, InvalidHandshake, TimeoutError, _Drop) as exc:
                reason = str(exc) or type(exc).__name__
            finally:
                self._ws = None
                self.caught_up.clear()
            accepted = self.connections > before
            if accepted:
                failures, refused_reason = 0, None
            action = close_action(code)
            if action == "rejoin" and accepted:
                refused_reason = reason or "access revoked"
                continue  # at once: the rejoin either continues in the other groups or fails
            if action != "retry":
                self._persist(force=True)
                raise RealtimeError(
                    CLOSE_FORBIDDEN if refused_reason else (code or 0),
                    refused_reason or reason or "the server refused the connection",
                )
            failures += 1
            if self._max_retries is not None and failures > self._max_retries:
                self._persist(force=True)
                raise RealtimeError(code or 0, f"gave up after {failures - 1} retries: {reason}")
            await asyncio.sleep(backoff_delay(failures - 1, base=self._base, cap=self._cap))

    async def _connection(self) -> AsyncGenerator[Incoming, None]:
        """One socket: authenticate, resume from the cursor, yield items until it closes."""
        token = self._cordon.state.token
        if token is None:
            raise RealtimeError(CLOSE_UNAUTHENTICATED, "not logged in: run `cordon login` first")
        self._persist()
        from websockets.asyncio.client import connect

        async with connect(
            websocket_url(self._cordon.server),
            open_timeout=self._open_timeout,
            max_size=4 * 2**20,
        ) as ws:
            self._ws = ws
            auth = {"type": "auth", "token": token, "cursor": self._positions.encode()}
            await ws.send(json.dumps(auth))
            ready = await self._frame(ws)
            if ready.get("type") != "ready":
                raise _Drop(f"expected 'ready', got {ready.get('type')!r}")
            self.connections += 1
            while True:
                frame = await self._frame(ws)
                if frame.get("type") == "item":
                    for item in await self._accept(ws, frame):
                        yield item
                    for recovered in await self._recovered():
                        yield recovered
                elif frame.get("type") == "caught_up":
                    self._positions.merge(Positions.decode(frame.get("cursor")))
                    self._persist(force=True)
                    self.caught_up.set()

    async def _recovered(self) -> list[Incoming]:
        """Parked broadcasts that a just-installed chain opens (PROTOCOL.md §6.3)."""
        if not self._cordon._chain_arrived:
            return []
        self._cordon._chain_arrived = False
        return [i for i in await retry_parked(self._cordon) if i.kind in CONTENT_KINDS]

    async def _frame(self, ws: ClientConnection) -> dict[str, Any]:
        """The next JSON frame, sending an application ping after each quiet interval.

        `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` drops a cancellation that
        arrives as the frame does, and the listener being closed would then wait for the next
        frame forever (a receipt echoed right at `aclose()` hung the realtime tests)."""
        while True:
            try:
                async with asyncio.timeout(self._ping_interval):
                    raw = await ws.recv()
            except TimeoutError:
                await ws.send(json.dumps({"type": "ping"}))
                continue
            try:
                frame = json.loads(raw)
            except ValueError:
                raise _Drop("the server sent a frame that is not JSON") from None
            if isinstance(frame, dict):
                return frame

    async def _accept(self, ws: ClientConnection, frame: dict[str, Any]) -> list[Incoming]:
        """Deliver one pushed item once, after any earlier item the socket has not carried yet.

        A frame beyond the next expected seq may follow items that were reordered, dropped or
        outrun by an injected frame: the range below it is fetched through `/sync` first, so
        every item reaches the application exactly once whatever order frames arrive in."""
        group_id, seq = uuid.UUID(frame["group_id"]), int(frame["seq"])
        self._positions.merge(Positions.decode(self._stored_cursor()))  # receive() may be ahead
        if not self._positions.is_new(group_id, seq):
            return []
        out: list[Incoming] = []
        if seq > self._positions.get(group_id) + 1:
            for earlier in await self._missing_below(group_id, seq):
                out += await self._deliver(ws, earlier)
        return out + await self._deliver(ws, frame)

    async def _missing_below(self, group_id: uuid.UUID, seq: int) -> list[dict[str, Any]]:
        """The items this device may read between its position and `seq`, from `/sync`."""
        found: list[dict[str, Any]] = []
        cursor = Positions({group_id: self._positions.get(group_id)}).encode()
        while True:
            params = {"cursor": cursor, "group_id": str(group_id), "limit": 500}
            try:
                page = await self._cordon._call("GET", "/api/v1/sync", params=params)
            except httpx.TransportError as exc:
                raise _Drop(f"could not fetch the items before seq {seq}: {exc}") from None
            except ApiError as exc:
                if exc.status == 401:
                    raise RealtimeError(CLOSE_UNAUTHENTICATED, exc.detail) from None
                raise _Drop(f"could not fetch the items before seq {seq}: {exc}") from None
            below = [i for i in page["items"] if int(i["seq"]) < seq]
            found += [i for i in below if self._positions.is_new(group_id, int(i["seq"]))]
            if not page.get("has_more") or len(below) < len(page["items"]):
                return found
            cursor = page["next_cursor"]

    async def _deliver(self, ws: ClientConnection, raw: dict[str, Any]) -> list[Incoming]:
        """Open one item; acknowledge verified content; [] when not for the application.

        Only an item that verified, a server event or an item parked for its chain moves the
        position: a refused item (forged, tampered, injected) advances nothing, so a real item
        below it, or the authentic copy fetched later through `/sync`, is still delivered. A
        refusal is reported once per seq."""
        group_id, seq = uuid.UUID(raw["group_id"]), int(raw["seq"])
        try:
            item = await self._cordon._open(raw)
        except httpx.TransportError as exc:
            raise _Drop(f"could not fetch what verification needs: {exc}") from None
        except ApiError as exc:
            if exc.status == 401:
                raise RealtimeError(CLOSE_UNAUTHENTICATED, exc.detail) from None
            if exc.status >= 500:
                raise _Drop(str(exc)) from None
            item = Incoming(
                **item_meta(raw), verified=False, content=None, error=f"could not verify: {exc}"
            )
        if (
            item.verified
            or item.own
            or item.event is not None
            or _is_parked(self._cordon, group_id, seq)
        ):
            self._positions.advance(group_id, seq)
            self._persist()
        elif (group_id, seq) in self._refused:
            return []
        else:
            self._refused.add((group_id, seq))
        await self._cordon._key_maintenance(caught_up=self.caught_up.is_set())
        if item.verified and not item.own and item.kind in CONTENT_KINDS:
            from websockets.exceptions import ConnectionClosed

            receipt = await self._cordon._receipt(group_id, seq, "delivered")
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps({"type": "receipt", **receipt}))
        if item.kind in KEY_KINDS and not item.event and item.verified:
            return []
        if item.error == OWN_RECEIPT:
            return []
        return [item]


def _is_parked(cordon: MessagingClient, group_id: uuid.UUID, seq: int) -> bool:
    """Whether the item waits for its sender chain (it is retried, not re-pushed)."""
    return any(
        int(p["seq"]) == seq and uuid.UUID(str(p["group_id"])) == group_id
        for p in parked_items(cordon)
    )
