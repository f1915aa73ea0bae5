"""One websocket connection: a bounded send queue drained by a single writer task.

The fan-out only ever calls `offer()`, which never blocks, so one socket can never slow the
others (websockets' `docs/topics/broadcast.rst`). A burst larger than the queue is not lost:
the overflow is dropped and re-read from the database once the queue drains. A consumer that
really falls behind (one frame cannot be written for `send_timeout` seconds because the peer
stopped reading) is closed with 4008 and catches up through sync when it returns. The writer
owns the connection's stream positions, so the gap/duplicate decisions of `hub.decide` are
taken in one place, in order.

Memory: tens of thousands of these sit idle, so an idle connection holds no buffer (the
queue is a deque created on demand and dropped once drained; an `asyncio.Queue` keeps four
deques of ~0.7 KiB each) and no task of its own besides the writer. The endpoint reads client
frames in the socket's own task; `shut()` stops that reader at once by expiring the
`asyncio.timeout` scope it registered with `stop_reader_with()` (docs/benchmarks.md).
"""

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from app.realtime.events import CLOSE_FORBIDDEN, CLOSE_SLOW_CONSUMER, Event, ItemPublished, Kick
from app.realtime.hub import Decision, Registry, Viewer, decide
from app.realtime.transport import Push

logger = logging.getLogger("cordon.realtime")
CATCH_UP_PAGE = 500


@dataclass
class Batch:
    """Readable frames after some positions, the positions after them, and whether more wait."""

    frames: list[str]
    positions: dict[uuid.UUID, int]
    more: bool


class StreamSource(Protocol):
    """What realtime needs from the domains; `app.main` wires the messages implementation."""

    async def authenticate(self, token: str) -> Viewer | None:
        """The device behind a live token, or None."""

    async def reload(self, viewer: Viewer) -> Viewer | None:
        """The device's current groups, or None when the device or user lost access."""

    async def read(self, viewer: Viewer, positions: Mapping[uuid.UUID, int], limit: int) -> Batch:
        """The next readable items after `positions` (the same query as HTTP sync)."""

    async def heads(self, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """The last committed seq of each group."""

    def parse_cursor(self, cursor: str | None) -> dict[uuid.UUID, int]:
        """Positions from a client cursor; raises ValueError when it is not one."""

    def encode_cursor(self, positions: Mapping[uuid.UUID, int]) -> str:
        """The cursor a client resumes from."""

    async def receipt(self, viewer: Viewer, body: dict[str, object]) -> str | None:
        """Record a receipt frame; returns an error code, or None on success."""


_RESYNC = object()
_Item = Event | str | object  # an event, a raw text frame (pong), or _RESYNC


class Connection:
    """A registered socket: `offer` from the fan-out, `run` as the writer task."""

    __slots__ = (
        "viewer",
        "positions",
        "source",
        "_registry",
        "_send",
        "_push",
        "_queue_size",
        "_queue",
        "_wakeup",
        "_reader",
        "_resync_pending",
        "_overflowed",
        "_send_timeout",
        "closed",
        "failure",
        "stopped",
    )

    def __init__(
        self,
        *,
        viewer: Viewer,
        positions: dict[uuid.UUID, int],
        source: StreamSource,
        registry: Registry["Connection"],
        send: Callable[[str], Awaitable[None]],
        queue_size: int,
        send_timeout: float = 10.0,
        push: Push | None = None,
    ) -> None:
        self.viewer = viewer
        self.positions = positions
        self.source = source
        self._registry = registry
        self._send = send
        self._push = push  # the server's direct write of a pre-built frame, if it offers one
        self._queue_size = queue_size
        self._queue: deque[_Item] | None = None  # None while empty: idle sockets hold no buffer
        self._wakeup: asyncio.Future[None] | None = None  # the writer, waiting for an item
        self._reader: asyncio.Timeout | None = None  # the endpoint's reader, while it reads
        self._resync_pending = False
        self._overflowed = False
        self._send_timeout = send_timeout
        self.closed: tuple[int, str] | None = None  # (code, reason) once marked for closing
        self.failure: BaseException | None = None  # what stopped the writer, if not a close
        self.stopped = False  # closed, or the writer ended: the reader must stop too

    def offer(self, item: _Item, wire: bytes | None = None) -> None:
        """Queue without blocking; overflow is recovered from the database, never blocks.
        `wire` is a live item's frame pre-built for every socket (`transport.text_frame`)."""
        if self.stopped:
            return
        if wire is not None and self._writer_idle() and self._push_now(item, wire):
            return
        if isinstance(item, Kick):
            if item.keep_token_id is None or item.keep_token_id != self.viewer.token_id:
                self.shut(CLOSE_FORBIDDEN, item.reason)
            return
        if item is _RESYNC and self._resync_pending:
            return
        if self._queue is None:
            self._queue = deque()
        elif len(self._queue) >= self._queue_size:
            self._overflowed = True  # re-read from the database once the queue drains
            return
        if item is _RESYNC:
            self._resync_pending = True  # only once queued: a dropped one must not block later
        self._queue.append(item)
        self._wake_writer()

    def _writer_idle(self) -> bool:
        """The writer waits for an item and none is queued or already on its way to it."""
        return self._queue is None and self._wakeup is not None and not self._wakeup.done()

    def _push_now(self, item: _Item, wire: bytes) -> bool:
        """While the writer waits on an empty queue (so every earlier frame is written and
        nothing is pending), take its decision on a live item here and write the frame
        straight to the socket: no task wake-up and no ASGI `send` per socket. False leaves
        the item to the writer: a gap to fill, a full write buffer, or no direct push."""
        if self._push is None or not isinstance(item, ItemPublished):
            return False
        decision = decide(self.viewer, self.positions, item.routing)
        if decision is Decision.CATCH_UP:
            return False
        if decision is Decision.DELIVER and not self._push(wire):
            return False
        if decision is not Decision.SKIP:
            self.positions[item.routing.group_id] = item.routing.seq
        return True

    def resync(self) -> None:
        """Ask the writer to re-read every group from the database (a notification was lost)."""
        self.offer(_RESYNC)

    def shut(self, code: int, reason: str) -> None:
        """Mark the connection for closing and stop its reader and writer; the endpoint
        performs the close."""
        if self.closed is None:
            self._registry.remove(self)
            self.closed = (code, reason)
            self._stop()

    def stop_reader_with(self, scope: asyncio.Timeout | None) -> None:
        """Register the `asyncio.timeout` scope the endpoint reads in (None once it left it):
        a close or the end of the writer expires it at once, so the reader never outlives
        them, even while it waits for a client frame."""
        self._reader = scope
        if self.stopped:
            self._stop()

    def writer_done(self, task: "asyncio.Task[None]") -> None:
        """Done callback of the writer task: keep what ended it and stop the reader."""
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
        self._stop()

    def _stop(self) -> None:
        self.stopped = True
        self._wake_writer()
        reader = self._reader
        if reader is not None and not reader.expired():
            reader.reschedule(-1.0)  # in the past: expires on the next loop iteration

    def _wake_writer(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def send(self, frame: str) -> None:
        """Write one frame; a peer that does not take it in time is a slow consumer."""
        try:
            # asyncio.timeout, not wait_for: wait_for wrapped every frame in a new task, about
            # a fifth of the CPU of a push (docs/benchmarks.md).
            async with asyncio.timeout(self._send_timeout):
                await self._send(frame)
        except TimeoutError:
            self.shut(CLOSE_SLOW_CONSUMER, "slow consumer: catch up through sync")
            raise

    async def send_all(self, frames: list[str]) -> None:
        """Write frames in order under one timeout scope, like `send` for each: every frame
        still gets at least 90 % of `send_timeout`, but the deadline moves at most ten times
        per timeout instead of once per frame (a catch-up page is hundreds of frames, and a
        scope per frame was a tenth of its CPU)."""
        loop = asyncio.get_running_loop()
        step = self._send_timeout / 10
        try:
            async with asyncio.timeout(self._send_timeout) as deadline:
                moved = loop.time()
                for frame in frames:
                    now = loop.time()
                    if now - moved >= step:
                        deadline.reschedule(now + self._send_timeout)
                        moved = now
                    await self._send(frame)
        except TimeoutError:
            self.shut(CLOSE_SLOW_CONSUMER, "slow consumer: catch up through sync")
            raise

    async def catch_up(self) -> None:
        """Send everything readable after the current positions, page by page."""
        while True:
            batch = await self.source.read(self.viewer, self.positions, CATCH_UP_PAGE)
            await self.send_all(batch.frames)
            self.positions = batch.positions
            if not batch.more:
                return

    async def _handle(self, item: _Item) -> None:
        if item is _RESYNC:
            self._resync_pending = False
            await self.catch_up()
        elif isinstance(item, str):
            await self.send(item)
        elif isinstance(item, ItemPublished):
            decision = decide(self.viewer, self.positions, item.routing)
            if decision is Decision.DELIVER:
                await self.send(item.frame)
            if decision in (Decision.DELIVER, Decision.ADVANCE):
                self.positions[item.routing.group_id] = item.routing.seq
            elif decision is Decision.CATCH_UP:
                await self.catch_up()
        else:  # Refresh: the user's memberships changed
            viewer = await self.source.reload(self.viewer)
            if viewer is None:
                self.shut(CLOSE_FORBIDDEN, "access revoked")
                return
            self.viewer = replace(viewer, token_id=self.viewer.token_id)
            self.positions = {g: p for g, p in self.positions.items() if g in viewer.groups}
            self._registry.add(self, viewer)
            await self.catch_up()

    async def _next(self) -> _Item | None:
        """The oldest queued item; waits while there is none (None once stopped)."""
        while not self._queue:
            if self.stopped:
                return None
            self._queue = None  # drained: give the buffer back while idle
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        return self._queue.popleft()

    async def run(self) -> None:
        """The writer: apply queued items in order until the connection closes."""
        while not self.stopped:
            item = await self._next()
            if item is None:
                return
            await self._handle(item)
            if self._overflowed and not self._queue:
                self._overflowed = False
                await self.catch_up()


async def cancel(task: "asyncio.Task[object] | None") -> None:
    """Cancel a helper task and wait for it, swallowing its outcome."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
