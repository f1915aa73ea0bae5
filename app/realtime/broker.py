"""Carry committed events to the other server processes: nothing (memory) or Redis pub/sub.

Local connections are always served by the process's own fan-out, so a Redis outage never
delays them. Redis only carries events to *other* processes, and it is never trusted for
completeness: while it is down (or after it comes back) the fan-out's watchdog compares the
database's stream heads with what it has seen, and the database fills every gap.
"""

import asyncio
import contextlib
import logging
import random
import uuid
from collections import deque
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.realtime import events
from app.realtime.events import Event

logger = logging.getLogger("cordon.realtime.broker")
CHANNEL = "cordon:stream:v1"


class Broker(Protocol):
    """Cross-process transport of events; `healthy` is False while events may be missed."""

    healthy: bool

    async def start(self, deliver: Callable[[Event], None], resync: Callable[[], None]) -> None:
        """Begin receiving other processes' events; `resync` runs after every (re)connect."""

    def publish(self, event: Event) -> None:
        """Hand an event to the other processes, without blocking."""

    async def stop(self) -> None:
        """Stop the background tasks and close connections."""


class MemoryBroker:
    """One process: the local fan-out is the whole story."""

    healthy = True

    async def start(self, deliver: Callable[[Event], None], resync: Callable[[], None]) -> None:
        """Nothing to receive from anywhere else."""

    def publish(self, event: Event) -> None:
        """No other process to tell."""

    async def stop(self) -> None:
        """Nothing to stop."""


class RedisBroker:
    """Redis pub/sub between processes, reconnecting by itself with backoff and jitter."""

    def __init__(self, url: str, *, outbox_size: int = 10_000) -> None:
        self.healthy = False
        self.origin = uuid.uuid4().hex
        self._url = url
        self._outbox: deque[str] = deque(maxlen=outbox_size)
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: aioredis.Redis | None = None

    async def start(self, deliver: Callable[[Event], None], resync: Callable[[], None]) -> None:
        """Start the publisher and subscriber tasks; returns at once even if Redis is down."""
        self._client = aioredis.from_url(
            self._url, socket_connect_timeout=1, socket_timeout=None, health_check_interval=5
        )
        self._tasks = [
            asyncio.create_task(self._publisher(), name="cordon-redis-publisher"),
            asyncio.create_task(self._subscriber(deliver, resync), name="cordon-redis-subscriber"),
        ]

    def publish(self, event: Event) -> None:
        """Queue for the publisher task; when the outbox overflows the oldest event is dropped
        (other processes then recover it from the database through their watchdog)."""
        self._outbox.append(events.dumps(event, self.origin))
        self._wakeup.set()

    async def _publisher(self) -> None:
        assert self._client is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._outbox:
                data = self._outbox.popleft()
                try:
                    await asyncio.wait_for(self._client.publish(CHANNEL, data), timeout=1)
                except (RedisError, OSError, TimeoutError) as exc:
                    self._mark_down(exc)

    def _mark_down(self, exc: BaseException) -> None:
        if self.healthy:
            logger.warning("redis unavailable, falling back to database polling: %s", exc)
        self.healthy = False

    async def _subscriber(
        self, deliver: Callable[[Event], None], resync: Callable[[], None]
    ) -> None:
        assert self._client is not None
        delay = 0.05
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                self.healthy = True
                delay = 0.05
                logger.info("redis subscribed")
                resync()
                async for message in pubsub.listen():
                    self._receive(message, deliver)
            except (RedisError, OSError, TimeoutError) as exc:
                self._mark_down(exc)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 8
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)

    def _receive(self, message: dict[str, object], deliver: Callable[[Event], None]) -> None:
        if message.get("type") != "message":
            return
        data = message.get("data")
        if not isinstance(data, bytes | str):
            return
        try:
            origin, event = events.loads(data)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed event on %s", CHANNEL)
            return
        if origin != self.origin:
            deliver(event)

    async def stop(self) -> None:
        """Cancel the tasks and close the client."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()


def create_broker(redis_url: str | None) -> Broker:
    """Redis when configured, else the in-process broker."""
    return RedisBroker(redis_url) if redis_url else MemoryBroker()
