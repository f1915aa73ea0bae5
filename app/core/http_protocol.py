"""uvicorn's httptools protocol with deadlines for clients that send slowly (slowloris).

uvicorn cancels its keep-alive timer on the first byte of a request and sets no other: a client
that sends headers a byte at a time, or a body shorter than its Content-Length, or a chunked
body that never ends, held its connection (and the request's task, waiting in `receive`) for
as long as it liked, and headers had no size limit. This protocol adds:

* headers: the whole header block must arrive within `CORDON_HTTP_HEADER_SECONDS` of its first
  byte (or of the connection, if nothing comes), else 408; more than
  `CORDON_HTTP_MAX_HEADER_BYTES` of it is refused with 431;
* body: while the app waits for body bytes, none may be missing for
  `CORDON_HTTP_BODY_IDLE_SECONDS`, and the body must keep an average of
  `CORDON_HTTP_BODY_MIN_RATE` bytes/s after that grace (a trickle of one byte per
  period is refused too), else 408 (or the connection is dropped if a response has started);
  time in which the server itself stopped reading (flow control: the app is slow) never counts;
* idle keep-alive connections close after `CORDON_HTTP_KEEP_ALIVE_SECONDS`.

The answers are problem documents (`core.request_timeout`, `core.headers_too_large`) sent with
`Connection: close`, then a lingering close (see `_refuse`); the app sees `http.disconnect` if
it was waiting for the body. A request whose headers and body arrive at once arms no timer
beyond the one a new connection gets.

`cordon-server serve` runs uvicorn with `--http app.core.http_protocol:CordonHttpProtocol`.
"""

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.core.config import get_settings
from app.core.errors import PROBLEM_JSON, problem_body

_IDLE, _HEADERS, _BODY = 0, 1, 2
LINGER_SECONDS = 2.0


def _problem(status: int, code: str, title: str, detail: str) -> bytes:
    body = json.dumps(problem_body(status, code, title, detail)).encode()
    head = (
        f"content-type: {PROBLEM_JSON}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return STATUS_LINE[status] + head + body


class CordonHttpProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` with header and body deadlines and a header size limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.timeout_keep_alive = settings.http_keep_alive_seconds
        self._header_seconds = settings.http_header_seconds
        self._max_header_bytes = settings.http_max_header_bytes
        self._body_idle = settings.http_body_idle_seconds
        self._min_rate = settings.http_body_min_rate
        self._phase = _IDLE
        self._header_bytes = 0
        self._timer: asyncio.TimerHandle | None = None
        self._body_bytes = 0
        self._body_since = 0.0  # when the body clock started (moved on by paused time)
        self._last_body = 0.0  # when body bytes last arrived (or reading resumed)
        self._checked = 0.0
        self._refused = False
        self._too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_seconds, self._headers_expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._phase != _BODY:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._refused:
            return
        if self._phase == _HEADERS or self._too_large:
            if self._header_bytes > self._max_header_bytes or self._too_large:
                self._refuse(
                    431,
                    "core.headers_too_large",
                    "Request header fields too large",
                    f"The request's header block exceeds {self._max_header_bytes} bytes.",
                )
            elif self._timer is None:  # armed only when headers span reads: the deadline
                self._arm(self._header_seconds, self._headers_expired)  # runs from here
        elif self._phase == _BODY and self._timer is None:
            now = self.loop.time()
            self._body_since = self._last_body = self._checked = now
            self._arm(self._body_idle, self._body_check)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._phase = _HEADERS

    def _fields(self) -> int:
        """Bytes of the request target and header fields (the raw count may include body
        bytes read in the same chunk, so it only decides whether to count exactly)."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_headers_complete(self) -> None:
        if self._header_bytes > self._max_header_bytes and self._fields() > self._max_header_bytes:
            self._too_large = True  # answered once the parser returns; the app never runs
            self._phase = _IDLE
            return
        super().on_headers_complete()
        self._phase = _BODY
        self._header_bytes = 0
        self._body_bytes = 0
        self._disarm()

    def on_body(self, body: bytes) -> None:
        if self._too_large:
            return
        super().on_body(body)
        self._body_bytes += len(body)
        self._last_body = self.loop.time()

    def on_message_complete(self) -> None:
        if self._too_large:
            return
        super().on_message_complete()
        self._phase = _IDLE
        self._disarm()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        self._phase = _IDLE
        super().handle_websocket_upgrade()

    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_expired(self) -> None:
        self._timer = None
        if self._phase == _HEADERS:
            self._refuse(
                408,
                "core.request_timeout",
                "Request timeout",
                f"The request's headers did not arrive within {self._header_seconds} s.",
            )
        elif self._phase == _IDLE and self.cycle is None and not self.transport.is_closing():
            self.transport.close()  # a connection that never sent a request

    def _body_check(self) -> None:
        """Runs every `body_idle` seconds (or sooner) while a body is awaited."""
        self._timer = None
        if self._phase != _BODY or self.transport.is_closing():
            return
        now = self.loop.time()
        if self.flow.read_paused:
            # The server stopped reading (the app is slow): not the client's time.
            self._body_since += now - self._checked
            self._last_body = max(self._last_body, now)
        else:
            allowed = self._body_idle + self._body_bytes / self._min_rate
            if now - self._last_body >= self._body_idle or now - self._body_since >= allowed:
                self._body_expired()
                return
        self._checked = now
        due = min(
            self._last_body + self._body_idle,
            self._body_since + self._body_idle + self._body_bytes / self._min_rate,
        )
        self._arm(max(due - now, 0.05), self._body_check)

    def _body_expired(self) -> None:
        cycle = self.cycle
        started = cycle is not None and cycle.response_started
        if cycle is not None:
            cycle.disconnected = True  # the app's `receive` answers http.disconnect
            cycle.message_event.set()
        if started:
            self._refused = True
            self.transport.close()
            return
        self._refuse(
            408,
            "core.request_timeout",
            "Request timeout",
            f"The request body stalled (no byte for {self._body_idle} s or under "
            f"{self._min_rate} bytes/s).",
        )

    def _refuse(self, status: int, code: str, title: str, detail: str) -> None:
        """Answer with a problem document and close; nothing more is read."""
        self._refused = True
        self._disarm()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if not self.transport.is_closing():
            self.transport.write(_problem(status, code, title, detail))
            # Lingering close: closing with unread request bytes would reset the connection
            # and could destroy the answer before the client reads it. Half-close, discard
            # what still comes, and close on the client's EOF or after LINGER_SECONDS.
            if self.transport.can_write_eof():
                self.transport.write_eof()
                self._timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
            else:
                self.transport.close()
