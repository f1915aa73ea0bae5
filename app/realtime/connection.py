"""One websocket connection: a bounded send queue drained by a single writer task.

The fan-out only ever calls `offer()`, which never blocks, so one socket can never slow the
others (websockets' `docs/topics/broadcast.rst`). A burst larger than the queue is not lost:
the overflow is dropped and re-read from the database once the queue drains. A consumer that
really falls behind (one frame cannot be written for `send_timeout` seconds because the peer
stopped reading) is closed with 4008 and catches up through sync when it returns. The writer
owns the connection's stream positions, so the gap/duplicate decisions of `hub.decide` are
taken in one place, in order.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from app.realtime.events import CLOSE_FORBIDDEN, CLOSE_SLOW_CONSUMER, Event, ItemPublished, Kick
from app.realtime.hub import Decision, Registry, Viewer, decide

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
    ) -> None:
        self.viewer = viewer
        self.positions = positions
        self.source = source
        self._registry = registry
        self._send = send
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=queue_size)
        self._resync_pending = False
        self._overflowed = False
        self._send_timeout = send_timeout
        self.closed: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()

    def offer(self, item: _Item) -> None:
        """Queue without blocking; overflow is recovered from the database, never blocks."""
        if self.closed.done():
            return
        if isinstance(item, Kick):
            self.shut(CLOSE_FORBIDDEN, item.reason)
            return
        if item is _RESYNC:
            if self._resync_pending:
                return
            self._resync_pending = True
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._overflowed = True  # re-read from the database once the queue drains

    def resync(self) -> None:
        """Ask the writer to re-read every group from the database (a notification was lost)."""
        self.offer(_RESYNC)

    def shut(self, code: int, reason: str) -> None:
        """Mark the connection for closing; the endpoint performs the close."""
        if not self.closed.done():
            self._registry.remove(self)
            self.closed.set_result((code, reason))

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

    async def catch_up(self) -> None:
        """Send everything readable after the current positions, page by page."""
        while True:
            batch = await self.source.read(self.viewer, self.positions, CATCH_UP_PAGE)
            for frame in batch.frames:
                await self.send(frame)
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
            self.viewer = viewer
            self.positions = {g: p for g, p in self.positions.items() if g in viewer.groups}
            self._registry.add(self, viewer)
            await self.catch_up()

    async def run(self) -> None:
        """The writer: apply queued items in order until the connection closes."""
        while not self.closed.done():
            item = await self._queue.get()
            await self._handle(item)
            if self._overflowed and self._queue.empty():
                self._overflowed = False
                await self.catch_up()

    async def until_closed(self) -> tuple[int, str]:
        """Wait for a reason to close (kick, slow consumer, writer failure)."""
        return await self.closed


async def cancel(task: "asyncio.Task[object] | None") -> None:
    """Cancel a helper task and wait for it, swallowing its outcome."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
