"""Canonical JSON (PROTOCOL.md §2.2): one byte string per JSON value."""

from __future__ import annotations

import json

from cordon_client.wire.encoding import JSON_INT_MAX, WireFormatError

# ---- §2.2 canonical JSON ----------------------------------------------------------------


def _check_json(node: object, path: str) -> None:
    if node is None or isinstance(node, bool):
        return
    if isinstance(node, int):
        if not -JSON_INT_MAX <= node <= JSON_INT_MAX:
            raise WireFormatError(f"{path}: integer beyond ±(2^53−1)")
        return
    if isinstance(node, float):
        raise WireFormatError(f"{path}: numbers must be integers")
    if isinstance(node, str):
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in node):
            raise WireFormatError(f"{path}: lone surrogate in a string")
        return
    if isinstance(node, list):
        for i, child in enumerate(node):
            _check_json(child, f"{path}[{i}]")
        return
    if isinstance(node, dict):
        for key, child in node.items():
            if not isinstance(key, str):
                raise WireFormatError(f"{path}: object keys must be strings")
            _check_json(key, f"{path}.<key>")
            _check_json(child, f"{path}.{key}")
        return
    raise WireFormatError(f"{path}: {type(node).__name__} is not a JSON value")


def canonical_json(value: object) -> bytes:
    """One byte string per JSON value (PROTOCOL.md §2.2).

    Object keys sorted by Unicode code point, no whitespace, UTF-8; in strings only `"`,
    `\\` and U+0000..U+001F are escaped (`\\b \\f \\n \\r \\t`, else `\\u00xx` lowercase);
    integers only, within ±(2^53−1) (anything else is refused, never rounded).
    """
    _check_json(value, "$")
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise WireFormatError(f"duplicate object key {key!r}")
        out[key] = value
    return out


def _refuse_constant(name: str) -> object:
    raise WireFormatError(f"{name} is not JSON")


def parse_canonical_json(data: bytes) -> object:
    """Parse JSON that must already be canonical; any other spelling is refused."""
    try:
        value: object = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_refuse_constant,
        )
    except UnicodeDecodeError:
        raise WireFormatError("canonical JSON: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise WireFormatError(f"canonical JSON: {exc.msg} at {exc.pos}") from None
    if canonical_json(value) != data:
        raise WireFormatError("canonical JSON: not in canonical form")
    return value
