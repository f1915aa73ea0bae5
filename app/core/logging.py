"""JSON logs, one object per line, each tagged with the request id that produced it.

Log records carry ids, codes and timings only; request bodies, tokens and ciphertext are never
logged, so operators can ship logs anywhere. Every line passes `redact` on its way out, so a
token a client puts where it does not belong (a URL query) is not written either.
"""

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
access_logger = logging.getLogger("cordon.access")


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object, with any `extra={...}` fields merged in."""

    _RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
        "message",
        "color_message",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in record.__dict__.items() if k not in self._RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str))


# Bearer tokens and enrolment codes (`app.core.security.new_token`), and every URL query
# string: uvicorn logs a websocket's path with its query, where a client may put a token.
_SECRETS = re.compile(r"\b(?:cdn|enrol)_[A-Za-z0-9_-]{16,}")
_QUERY = re.compile(r"(/[^\s\"\\?]*)\?[^\s\"\\]*")


def redact(line: str) -> str:
    """The log line without anything that may be a token: the last guard of every log path."""
    return _QUERY.sub(r"\1?[redacted]", _SECRETS.sub("[redacted]", line))


def configure_logging(level: str) -> None:
    """Route every logger (ours, uvicorn's, SQLAlchemy's) through the JSON formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by cordon.access
    # Below these levels they write SQL parameters and result rows (password hashes, sealed
    # TOTP seeds) and every websocket frame; the redactor would catch tokens, not those.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(max(logging.INFO, root.level))


class _TaggedSend:
    """`send` of an HTTP request: adds `X-Request-ID` to the response and keeps its status."""

    __slots__ = ("_send", "_request_id", "status")

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id
        self.status = 0

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            headers = list(message.get("headers", []))
            headers.append((b"x-request-id", self._request_id.encode()))
            message = {**message, "headers": headers}
        await self._send(message)


class RequestContextMiddleware:
    """Give every request an id (echoed as `X-Request-ID`) and write one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        # A websocket has no response headers to tag: its `send` stays unwrapped (no wrapper
        # per socket held open for hours, no extra coroutine per pushed frame).
        tagged = _TaggedSend(send, request_id) if scope["type"] == "http" else None
        try:
            await self.app(scope, receive, send if tagged is None else tagged)
        finally:
            access_logger.info(
                "request",
                extra={
                    "method": scope.get("method", "WS"),
                    "path": scope["path"],
                    "status": 0 if tagged is None else tagged.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            request_id_var.reset(token)
