"""The process's fan-out: deliver committed events to local connections, relay them to other
processes through the broker, and repair anything lost with a database watchdog."""

import asyncio
import contextlib
import logging
import uuid

from app.realtime.broker import Broker
from app.realtime.connection import Connection, StreamSource
from app.realtime.events import Event, ItemPublished, Kick, Refresh
from app.realtime.hub import Registry
from app.realtime.transport import text_frame

logger = logging.getLogger("cordon.realtime")


class Fanout:
    """One per app. `publish` never blocks and never touches the network on the caller's path."""

    def __init__(
        self,
        *,
        broker: Broker,
        queue_size: int = 1024,
        poll_seconds: float = 5.0,
        degraded_poll_seconds: float = 0.2,
    ) -> None:
        self.broker = broker
        self.queue_size = queue_size
        self.registry: Registry[Connection] = Registry()
        self.source: StreamSource | None = None
        self._poll = poll_seconds
        self._degraded_poll = degraded_poll_seconds
        self._seen: dict[uuid.UUID, int] = {}
        self._started = False
        self._lock: asyncio.Lock | None = None
        self._watchdog: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the broker and the watchdog (idempotent; also called lazily on first use, as
        in-process test transports do not run the lifespan)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._started:
                return
            await self.broker.start(self.deliver, self.resync_all)
            self._watchdog = asyncio.create_task(self._watch(), name="cordon-watchdog")
            self._started = True

    async def stop(self) -> None:
        """Stop background work; open sockets are closed by the server's shutdown."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(BaseException):
                await self._watchdog
        await self.broker.stop()
        self._started = False

    def publish(self, event: Event) -> None:
        """The one entry point after a commit: local connections first, then other processes."""
        if not self._started:
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().create_task(self.start())
        self.deliver(event)
        self.broker.publish(event)

    def deliver(self, event: Event) -> None:
        """Offer an event to the local connections it may concern; a live item is framed
        once for all of them."""
        wire = None
        if isinstance(event, ItemPublished):
            group_id = event.routing.group_id
            self._seen[group_id] = max(self._seen.get(group_id, 0), event.routing.seq)
            targets = self.registry.for_group(group_id)
            wire = text_frame(event.frame) if targets else None
        elif isinstance(event, Kick):
            targets = self.registry.for_device(event.device_id) if event.device_id else []
            if event.user_id is not None:
                targets += self.registry.for_user(event.user_id)
            if event.group_id is not None:
                targets += self.registry.for_group(event.group_id)
        else:
            assert isinstance(event, Refresh)
            targets = self.registry.for_user(event.user_id)
        for conn in targets:
            conn.offer(event, wire)

    def resync_all(self) -> None:
        """Every local connection re-reads its groups from the database."""
        for conn in self.registry:
            conn.resync()

    async def check_heads(self) -> None:
        """Compare the database's stream heads with what this process has seen; connections
        of a group that moved without a notification re-read it."""
        if self.source is None:
            return
        group_ids = self.registry.group_ids()
        if not group_ids:
            return
        heads = await self.source.heads(group_ids)
        for group_id, head in heads.items():
            if head > self._seen.get(group_id, -1):
                self._seen[group_id] = head
                for conn in self.registry.for_group(group_id):
                    conn.resync()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll if self.broker.healthy else self._degraded_poll)
            try:
                await self.check_heads()
            except Exception:  # the database may be briefly unreachable; try again next tick
                logger.exception("stream watchdog failed")
