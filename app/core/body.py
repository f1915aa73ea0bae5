"""The one reader of JSON request bodies and websocket frames.

Every route that takes a JSON body (through `app.core.routing.CordonRoute`), the single post
served as plain ASGI (`app.messages.posting`), the websocket's client frames
(`app.realtime.router`) and stream cursors (`app.messages.cursor`) decode JSON here, so one
set of limits holds everywhere: size, nesting depth, strict UTF-8 with no lone surrogates,
standard JSON only (no NaN or Infinity, no integer of thousands of digits), and for HTTP a
JSON content type. A violation is a 400 `core.malformed_json`, 413 `core.too_large` or 415
`core.unsupported_media_type` problem, never an exception the renderer does not know.
"""

import email.message
import functools
import json
from typing import Any, Final

from starlette.requests import Request

from app.core.errors import CordonError, TooLarge

MAX_DEPTH: Final = 32  # arrays/objects inside each other; no Cordon document needs more than 8


class MalformedJSON(CordonError):
    status, code, title = 400, "core.malformed_json", "Malformed JSON"


class UnsupportedMediaType(CordonError):
    status, code, title = 415, "core.unsupported_media_type", "Unsupported media type"


class Missing:
    """The type of `MISSING`: no body was sent."""


MISSING: Final = Missing()


@functools.lru_cache(maxsize=64)
def is_json(content_type: str | None) -> bool:
    """application/json or application/*+json, parameters allowed (cached: clients send the
    same few values, and parsing one through `email` costs more than the rest of a read)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _refuse_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not JSON.")


# One decoder for every call: `json.loads` with a keyword builds a new one each time (~7 us).
_DECODER: Final = json.JSONDecoder(parse_constant=_refuse_constant)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJSON("A string holds a lone surrogate (\\ud800-\\udfff).") from None


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth and strings of a parsed document, level by level (no recursion to exhaust, and
    no allocation per node: a 256-message batch is a few thousand of them)."""
    level: list[Any] = [value]
    depth = 0
    while level:
        depth += 1
        below: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is str:
                if not node.isascii():
                    _check_text(node)
            elif kind is dict or kind is list:
                if depth > max_depth:
                    raise MalformedJSON(f"JSON is nested deeper than {max_depth} levels.")
                if kind is dict:
                    for key in node:
                        if not key.isascii():
                            _check_text(key)
                    below.extend(node.values())
                else:
                    below.extend(node)
        level = below


def decode_json(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one JSON document within the limits above (MalformedJSON otherwise)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJSON(f"The body is not UTF-8 (byte {exc.start}).") from None
    try:
        value = _DECODER.decode(raw)
    except RecursionError:
        raise MalformedJSON(f"JSON is nested deeper than {max_depth} levels.") from None
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"The body is not valid JSON ({exc.msg} at {exc.pos}).") from None
    except ValueError:  # e.g. an integer past the interpreter's digit limit
        raise MalformedJSON("The body holds a number out of range.") from None
    _check_tree(value, max_depth)
    return value


def check_media_type(request: Request) -> None:
    """A body that is not declared as JSON is refused before it is read."""
    if not is_json(request.headers.get("content-type")):
        raise UnsupportedMediaType("Send the body as application/json.")


async def read_json(request: Request, *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The request's JSON body, or `MISSING` when it is empty."""
    raw = await request.body()
    if not raw:
        return MISSING
    if len(raw) > max_bytes:
        raise TooLarge(f"The request body exceeds {max_bytes} bytes.")
    check_media_type(request)
    return decode_json(raw, max_depth=max_depth)
