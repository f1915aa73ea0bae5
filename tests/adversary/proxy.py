"""A rewriting reverse proxy: the malicious operator's view of one client's traffic.

`RewritingProxy` is a real HTTP + websocket server on its own 127.0.0.1 port (Starlette under
uvicorn, in a thread with its own event loop so that blocking callers such as the CLI in a
subprocess or the SDK's threaded library client never stall it). It forwards every request to
the real server with httpx (bodies streamed both ways) and bridges `/api/v1/ws` with the
`websockets` library, frame by frame in both directions. Tests install rules that edit what
passes through, and read what passed (`exchanges`, `frames`).

Rules run in the proxy's thread: keep them plain functions of the data they are given.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

Direction = Literal["to_client", "to_server"]
Json = Any
Frame = dict[str, Any]

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
}
JSON_TYPES = ("application/json", "application/problem+json")


@dataclass
class Rule:
    """An installed rule; `hits` counts how often it changed something. `remove()` uninstalls
    it; `times` (when set) uninstalls it after that many hits."""

    proxy: RewritingProxy = field(repr=False)
    times: int | None = None
    hits: int = 0

    def remove(self) -> None:
        self.proxy._remove(self)

    def _hit(self) -> None:
        self.hits += 1
        if self.times is not None and self.hits >= self.times:
            self.remove()


@dataclass
class HttpRule(Rule):
    method: str = "GET"
    path: re.Pattern[str] = field(default_factory=lambda: re.compile(""))
    rewrite: Callable[[bytes], bytes] | None = None
    canned: tuple[int, bytes] | None = None

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path.fullmatch(path) is not None


@dataclass
class WsRule(Rule):
    direction: Direction = "to_client"
    apply: Callable[[Frame], list[Frame] | None] = field(default=lambda _: None)


@dataclass(frozen=True)
class Exchange:
    """One HTTP request through the proxy. JSON bodies are parsed; streamed bodies are None."""

    method: str
    path: str
    query: str
    status: int
    request_json: Json | None
    response_json: Json | None
    rewritten: bool


@dataclass(frozen=True)
class WsRecord:
    """One websocket frame as it arrived at the proxy (`frame`) and what was delivered."""

    direction: Direction
    frame: Frame | str
    delivered: list[Frame | str]


def _json_or_none(body: bytes, content_type: str) -> Json | None:
    if not content_type.startswith(JSON_TYPES) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_item(frame: Frame) -> bool:
    """Whether a server→client frame carries a stream item."""
    return frame.get("type") == "item"


class RewritingProxy:
    """A reverse proxy in front of `upstream` (an http://127.0.0.1:port base URL).

    Point one client at `proxy.base`; everyone else talks to the server directly.
    Use as a context manager, or call `start()` and `stop()`.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.upstream_ws = "ws://" + self.upstream.split("://", 1)[1] + "/api/v1/ws"
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)  # connections queue from now on: no readiness polling
        self.port = int(self._socket.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        self.exchanges: list[Exchange] = []
        self.frames: list[WsRecord] = []
        self.errors: list[str] = []
        """Tracebacks of rules that raised (the client saw a 500 or a closed socket)."""
        self._rules: list[Rule] = []
        self._changed = threading.Condition()
        self._http: httpx.AsyncClient | None = None
        app = Starlette(
            routes=[
                WebSocketRoute("/api/v1/ws", self._websocket),
                Route(
                    "/{path:path}",
                    self._forward,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                ),
            ]
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            access_log=False,
            timeout_graceful_shutdown=2,
            ws_max_size=16 * 2**20,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"proxy-{self.port}", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> RewritingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close every bridged socket and the listener; wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(15)
        self._socket.close()
        if self._thread.is_alive():
            raise RuntimeError("the proxy did not stop within 15 s")

    def __enter__(self) -> RewritingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._http = httpx.AsyncClient(timeout=60)
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            await self._http.aclose()

    # -- rules: HTTP ----------------------------------------------------------------------

    def rewrite_json(
        self,
        method: str,
        path: str,
        fn: Callable[[Json], Json],
        *,
        times: int | None = None,
    ) -> HttpRule:
        """Replace the JSON body of responses to `method` (or "*") on paths fully matching the
        regex `path` by `fn(body)`; `fn` may edit `body` in place and return it."""

        def rewrite(raw: bytes) -> bytes:
            return json.dumps(fn(json.loads(raw))).encode()

        return self._add_http(method, path, times, rewrite=rewrite)

    def rewrite_body(
        self, method: str, path: str, fn: Callable[[bytes], bytes], *, times: int | None = None
    ) -> HttpRule:
        """Replace the raw (decoded) response body, e.g. flip a byte of a download."""
        return self._add_http(method, path, times, rewrite=fn)

    def respond_json(
        self, method: str, path: str, body: Json, *, status: int = 200, times: int | None = None
    ) -> HttpRule:
        """Answer matching requests with `body` without asking the real server."""
        return self._add_http(method, path, times, canned=(status, json.dumps(body).encode()))

    def replay_json(self, method: str, path: str) -> HttpRule:
        """Serve every later matching request the first matching response (a rollback or a
        frozen view): the first response passes unchanged and is remembered."""
        first: list[bytes] = []

        def rewrite(raw: bytes) -> bytes:
            if not first:
                first.append(raw)
            return first[0]

        return self._add_http(method, path, None, rewrite=rewrite)

    def _add_http(
        self,
        method: str,
        path: str,
        times: int | None,
        *,
        rewrite: Callable[[bytes], bytes] | None = None,
        canned: tuple[int, bytes] | None = None,
    ) -> HttpRule:
        rule = HttpRule(
            self,
            times,
            method=method.upper(),
            path=re.compile(path),
            rewrite=rewrite,
            canned=canned,
        )
        with self._changed:
            self._rules.append(rule)
        return rule

    # -- rules: websocket -------------------------------------------------------------------

    def rewrite_ws(
        self,
        fn: Callable[[Frame], list[Frame] | None],
        *,
        direction: Direction = "to_client",
        times: int | None = None,
    ) -> WsRule:
        """The general websocket rule: `fn(frame)` returns the frames to deliver instead
        (`[]` drops it, two frames inject one), or None to leave it unchanged. Frames are the
        parsed JSON objects; rules apply in the order installed."""
        rule = WsRule(self, times, direction=direction, apply=fn)
        with self._changed:
            self._rules.append(rule)
        return rule

    def drop_ws_items(
        self, predicate: Callable[[Frame], bool], *, times: int | None = None
    ) -> WsRule:
        """Withhold pushed items for which `predicate(frame)` holds."""
        return self.rewrite_ws(lambda f: [] if is_item(f) and predicate(f) else None, times=times)

    def rewrite_ws_item(
        self, fn: Callable[[Frame], Frame | None], *, times: int | None = None
    ) -> WsRule:
        """Edit pushed items: `fn(frame)` returns the frame to deliver, or None to leave it."""

        def apply(frame: Frame) -> list[Frame] | None:
            if not is_item(frame):
                return None
            edited = fn(frame)
            return None if edited is None else [edited]

        return self.rewrite_ws(apply, times=times)

    def replay_ws_items(
        self,
        predicate: Callable[[Frame], bool],
        *,
        edit: Callable[[Frame], Frame] | None = None,
        times: int | None = None,
    ) -> WsRule:
        """Deliver matching items twice; the copy is `edit(copy)` when given (e.g. a new seq)."""

        def apply(frame: Frame) -> list[Frame] | None:
            if not (is_item(frame) and predicate(frame)):
                return None
            copy = json.loads(json.dumps(frame))
            return [frame, edit(copy) if edit else copy]

        return self.rewrite_ws(apply, times=times)

    def reorder_ws_items(
        self,
        count: int,
        predicate: Callable[[Frame], bool] = is_item,
        *,
        order: Callable[[list[Frame]], list[Frame]] = lambda held: held[::-1],
    ) -> WsRule:
        """Hold the next `count` matching items, then deliver `order(held)` (reversed by
        default) in their place; the rule removes itself once it has released them."""
        held: list[Frame] = []

        def apply(frame: Frame) -> list[Frame] | None:
            if not (is_item(frame) and predicate(frame)):
                return None
            held.append(frame)
            if len(held) < count:
                return []
            rule.remove()
            return order(list(held))

        rule = self.rewrite_ws(apply)
        return rule

    # -- observation ----------------------------------------------------------------------

    def requests(self, method: str, path: str) -> list[Exchange]:
        """The exchanges so far whose method and path (full regex match) fit."""
        pattern = re.compile(path)
        with self._changed:
            return [
                e
                for e in self.exchanges
                if method.upper() in ("*", e.method) and pattern.fullmatch(e.path)
            ]

    def items_to_client(self) -> list[Frame]:
        """Item frames the real server pushed towards the client (before any rule)."""
        with self._changed:
            return [
                r.frame
                for r in self.frames
                if r.direction == "to_client" and isinstance(r.frame, dict) and is_item(r.frame)
            ]

    async def wait_for(
        self, predicate: Callable[[RewritingProxy], bool], timeout: float = 10
    ) -> None:
        """Return once `predicate(proxy)` holds (re-checked after every exchange and frame)."""

        def wait() -> bool:
            with self._changed:
                return self._changed.wait_for(lambda: predicate(self), timeout)

        if not await asyncio.to_thread(wait):
            raise AssertionError(f"proxy condition not met within {timeout}s")

    @contextlib.contextmanager
    def _reporting(self, rule: Rule) -> Iterator[None]:
        """Keep the traceback of a failing rule for the test (`errors`), then fail the
        request as a broken proxy would."""
        try:
            yield
        except Exception:
            with self._changed:
                self.errors.append(f"{rule!r}:\n{traceback.format_exc()}")
            raise

    def clear(self) -> None:
        """Remove every rule (the record of traffic stays)."""
        with self._changed:
            self._rules.clear()

    def _remove(self, rule: Rule) -> None:
        with self._changed:
            if rule in self._rules:
                self._rules.remove(rule)

    def _record(self, record: Exchange | WsRecord) -> None:
        with self._changed:
            if isinstance(record, Exchange):
                self.exchanges.append(record)
            else:
                self.frames.append(record)
            self._changed.notify_all()

    def _http_rules(self, method: str, path: str) -> list[HttpRule]:
        with self._changed:
            return [r for r in self._rules if isinstance(r, HttpRule) and r.matches(method, path)]

    def _ws_rules(self, direction: Direction) -> list[WsRule]:
        with self._changed:
            return [r for r in self._rules if isinstance(r, WsRule) and r.direction == direction]

    # -- HTTP forwarding ------------------------------------------------------------------

    async def _forward(self, request: Request) -> Response:
        assert self._http is not None
        method, path, query = request.method, request.url.path, request.url.query
        rules = self._http_rules(method, path)
        content_type = request.headers.get("content-type", "")
        request_json: Json | None = None
        body: bytes | AsyncIterator[bytes]
        if content_type.startswith(JSON_TYPES):
            body = await request.body()
            request_json = _json_or_none(body, content_type)
        else:
            body = request.stream()
        canned = next((r for r in rules if r.canned is not None), None)
        if canned is not None and canned.canned is not None:
            canned._hit()
            status, payload = canned.canned
            self._record(
                Exchange(method, path, query, status, request_json, json.loads(payload), True)
            )
            return Response(payload, status, media_type="application/json")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        upstream = self._http.build_request(
            method,
            self.upstream + path + (f"?{query}" if query else ""),
            headers=headers,
            content=body,
        )
        response = await self._http.send(upstream, stream=True)
        rewrites = [r for r in rules if r.rewrite is not None]
        response_type = response.headers.get("content-type", "")
        if not rewrites and not response_type.startswith(JSON_TYPES):
            self._record(
                Exchange(method, path, query, response.status_code, request_json, None, False)
            )
            return StreamingResponse(
                response.aiter_raw(),
                response.status_code,
                headers=self._response_headers(response, keep_length=True),
                background=BackgroundTask(response.aclose),
            )
        raw = await response.aread()
        await response.aclose()
        original = raw
        for rule in rewrites:
            assert rule.rewrite is not None
            with self._reporting(rule):
                raw = rule.rewrite(raw)
            rule._hit()
        self._record(
            Exchange(
                method,
                path,
                query,
                response.status_code,
                request_json,
                _json_or_none(raw, response_type),
                raw != original,
            )
        )
        return Response(
            raw, response.status_code, headers=self._response_headers(response, keep_length=False)
        )

    @staticmethod
    def _response_headers(response: httpx.Response, *, keep_length: bool) -> dict[str, str]:
        drop = HOP_BY_HOP | {"date", "server"}
        if not keep_length:
            drop |= {"content-length", "content-encoding"}
        return {k: v for k, v in response.headers.items() if k.lower() not in drop}

    # -- websocket bridge -----------------------------------------------------------------

    async def _websocket(self, client: WebSocket) -> None:
        origin = client.headers.get("origin")
        try:
            upstream = await connect(
                self.upstream_ws,
                origin=origin,  # type: ignore[arg-type]
                max_size=16 * 2**20,
                open_timeout=10,
            )
        except InvalidStatus as exc:
            await client.close(4403 if exc.response.status_code == 403 else 1011)
            return
        await client.accept()
        async with upstream:
            tasks = [
                asyncio.create_task(self._pump_to_server(client, upstream)),
                asyncio.create_task(self._pump_to_client(client, upstream)),
            ]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await client.close(1011, "proxy rule failed")  # only if still open: a rule raised

    async def _pump_to_server(self, client: WebSocket, upstream: ClientConnection) -> None:
        try:
            while True:
                text = await client.receive_text()
                for out in self._apply_ws("to_server", text):
                    await upstream.send(out)
        except WebSocketDisconnect as exc:
            await upstream.close(exc.code if exc.code != 1005 else 1000, exc.reason or "")

    async def _pump_to_client(self, client: WebSocket, upstream: ClientConnection) -> None:
        try:
            async for message in upstream:
                text = message if isinstance(message, str) else message.decode()
                for out in self._apply_ws("to_client", text):
                    await client.send_text(out)
        except ConnectionClosed:
            pass
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await client.close(upstream.close_code or 1011, upstream.close_reason or "")

    def _apply_ws(self, direction: Direction, text: str) -> list[str]:
        try:
            parsed: Frame | str = json.loads(text)
        except ValueError:
            parsed = text
        if not isinstance(parsed, dict):
            self._record(WsRecord(direction, text, [text]))
            return [text]
        frames: list[Frame] = [parsed]
        for rule in self._ws_rules(direction):
            out: list[Frame] = []
            for frame in frames:
                with self._reporting(rule):
                    result = rule.apply(frame)
                if result is None:
                    out.append(frame)
                else:
                    rule._hit()
                    out.extend(result)
            frames = out
        delivered: list[Frame | str] = list(frames)
        self._record(WsRecord(direction, json.loads(text), delivered))  # as it arrived
        return [json.dumps(f) for f in frames]
