"""Application factory: settings, engine, middleware, error renderers and routers."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app import realtime
from app.api import api_router
from app.core.config import Settings, get_settings
from app.core.db import create_engine, create_sessionmaker
from app.core.errors import install_error_handlers
from app.core.limits import BodySizeLimitMiddleware
from app.core.logging import RequestContextMiddleware, configure_logging
from app.health.router import router as health_router
from app.library.router import SEGMENTS_PREFIX as LIBRARY_SEGMENTS_PREFIX
from app.messages import posting
from app.messages.batching import Committer
from app.messages.receipts import ReceiptCommitter
from app.messages.stream import MessageStreamSource
from app.realtime.broker import create_broker
from app.realtime.fanout import Fanout
from app.realtime.router import STREAM_PATH, stream


def _route_path(scope: Scope) -> str:
    """The path the routes see: without the `root_path` a proxy mounts the app under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


class CordonApp(FastAPI):
    """FastAPI, except for two routes served as plain ASGI apps, with only the request id and
    access line of `RequestContextMiddleware` (and the body-size limit for the post):

    - the websocket at `STREAM_PATH` (`realtime.stream`): the HTTP middleware, exception
      wrappers and router would otherwise stay suspended, with their exit stacks, for the
      life of every socket;
    - posting one message (`app.messages.posting`): matching the route and resolving its
      dependencies cost a quarter of a post's CPU, on the path of every alert.
    """

    def __init__(self, *, max_request_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.post_message = RequestContextMiddleware(
            BodySizeLimitMiddleware(posting.post_message, limit=max_request_bytes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and _route_path(scope) == STREAM_PATH:
            scope["app"] = self
            await self.stream_socket(scope, receive, send)
            return
        if scope["type"] == "http" and scope["method"] == "POST":
            posted_to = posting.POST_PATH.fullmatch(_route_path(scope))
            if posted_to is not None:
                scope["app"] = self
                scope["path_params"] = {"group_id": posted_to.group(1)}
                await self.post_message(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    stream_socket = RequestContextMiddleware(stream)


def _freeze_startup_heap() -> None:
    """Hide what is alive once the app has started (modules, routes, mappers, the pool: most
    of the heap, kept for the life of the process) from the cyclic garbage collector. A full
    collection otherwise walks all of it: 40–100 ms here, during which no socket is written and
    no request answered (docs/benchmarks.md). Collections then scan only what requests and
    sockets create."""
    gc.collect()
    gc.freeze()


def _install_messaging(app: FastAPI, settings: Settings) -> None:
    """The group-commit workers (posts, receipts) and the realtime fan-out (started by the
    lifespan, or lazily on first use when a test transport skips the lifespan)."""
    fanout = Fanout(
        broker=create_broker(settings.redis_url),
        queue_size=settings.ws_queue_size,
        poll_seconds=settings.realtime_poll_seconds,
        degraded_poll_seconds=settings.realtime_degraded_poll_seconds,
    )
    receipts = ReceiptCommitter(app.state.sessionmaker, batch_max=settings.message_batch_max)
    fanout.source = MessageStreamSource(app.state.sessionmaker, settings, receipts)
    realtime.bind_sessions(app.state.sessionmaker, fanout)
    app.state.realtime = fanout
    app.state.committer = Committer(app.state.sessionmaker, batch_max=settings.message_batch_max)
    app.state.receipts = receipts


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build a fresh app; tests pass their own settings, production reads the environment."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await app.state.realtime.start()
        _freeze_startup_heap()
        yield
        await app.state.committer.stop()
        await app.state.receipts.stop()
        await app.state.realtime.stop()
        await app.state.engine.dispose()

    app = CordonApp(
        max_request_bytes=settings.max_request_bytes,
        title="Cordon",
        version="0.1.0",
        summary="End-to-end encrypted closed user groups for enforcement administrations",
        lifespan=lifespan,
    )
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    _install_messaging(app, settings)
    configure_logging(settings.log_level)
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=settings.max_request_bytes,
        exempt_prefixes=(LIBRARY_SEGMENTS_PREFIX,),  # bounded per segment by the library
    )
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router, tags=["health"])
    app.include_router(api_router)
    return app
