"""Application factory: settings, engine, middleware, error renderers and routers."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from app import realtime
from app.api import api_router
from app.core.asgi import route_path
from app.core.config import Settings, get_settings
from app.core.db import create_engine, create_sessionmaker
from app.core.docs import install_docs
from app.core.errors import install_error_handlers
from app.core.limits import BodySizeLimitMiddleware
from app.core.logging import RequestContextMiddleware, configure_logging
from app.core.memory import keep_freed_memory
from app.core.openapi import install_openapi
from app.core.routing import stamp_templates
from app.health.router import router as health_router
from app.library.dependencies import close_blob_store
from app.library.router import SEGMENTS_PREFIX as LIBRARY_SEGMENTS_PREFIX
from app.messages.batching import Committer
from app.messages.posting import SinglePostRoute
from app.messages.receipts import ReceiptCommitter
from app.messages.stream import MessageStreamSource
from app.realtime.broker import create_broker
from app.realtime.fanout import Fanout
from app.realtime.router import STREAM_PATH, stream
from app.web.serving import DEFAULT_DIST, WebRoute


class CordonApp(FastAPI):
    """FastAPI, except that the websocket at `STREAM_PATH` goes straight to `realtime.stream`
    (with only the request id and access line of `RequestContextMiddleware`): the HTTP
    middleware, exception wrappers and router would otherwise stay suspended, with their exit
    stacks, for the life of every socket. (The single-message post leaves FastAPI later, after
    the app's middleware: `app.messages.posting.SinglePostRoute`.)"""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and route_path(scope) == STREAM_PATH:
            scope["app"] = self
            await self.stream_socket(scope, receive, send)
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
        keep_freed_memory()
        yield
        await app.state.committer.stop()
        await app.state.receipts.stop()
        await app.state.realtime.stop()
        await close_blob_store(app)
        await app.state.engine.dispose()

    app = CordonApp(
        title="Cordon",
        version="0.1.0",
        summary="End-to-end encrypted closed user groups for enforcement administrations",
        lifespan=lifespan,
        docs_url=None,  # served from local assets: app.core.docs
        redoc_url=None,
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
    app.add_middleware(SinglePostRoute)  # innermost: after every middleware below
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=settings.max_request_bytes,
        exempt_prefixes=(LIBRARY_SEGMENTS_PREFIX,),  # bounded per segment by the library
    )
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router, tags=["health"])
    app.include_router(api_router)
    stamp_templates(app.routes)
    install_docs(app)
    install_openapi(app)
    # Last: it answers only what no route above matched (app.web.serving).
    dist = Path(settings.web_dist_dir) if settings.web_dist_dir else DEFAULT_DIST
    app.router.routes.append(WebRoute(dist))
    return app
