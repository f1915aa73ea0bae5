"""Request-size limit enforced before the body reaches a handler.

Checking only `Content-Length` is not enough: a chunked body has none, so the received bytes
are counted as they stream in and the request is cut off with a 413 problem at the limit.
"""

import json
from collections.abc import Awaitable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON


class BodyTooLarge(HTTPException):
    """Raised inside `receive` once the streamed body passes the limit; an HTTPException so
    that FastAPI's body parser lets it through to the problem renderer as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")


def _problem_body(limit: int) -> bytes:
    return json.dumps(
        {
            "type": "https://cordon.invalid/problems#core.too_large",
            "title": "Request too large",
            "status": 413,
            "detail": f"The request body exceeds {limit} bytes.",
            "code": "core.too_large",
        }
    ).encode()


class BodySizeLimitMiddleware:
    """Refuse bodies over `limit` bytes; streaming routes opt out with their own bound."""

    def __init__(self, app: ASGIApp, limit: int, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt_prefixes = exempt_prefixes

    async def _reject(self, send: Send) -> None:
        body = _problem_body(self.limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # A plain function: what it does not limit (websockets, exempt routes) runs without a
        # frame of this middleware, which a websocket would hold for as long as it is open.
        if scope["type"] != "http" or scope["path"].startswith(self.exempt_prefixes):
            return self.app(scope, receive, send)
        return self._limited(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._reject(send)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(send)
