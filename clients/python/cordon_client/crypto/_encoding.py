"""The SDK face of `cordon_client.wire` (PROTOCOL.md §2), plus HMAC/HKDF for the ratchet.

Encoding lives in the wire module, shared with the server; here its refusals become the SDK's
`MalformedError`, so every caller of the receive path catches one exception tree.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from cordon_client import wire
from cordon_client.exceptions import MalformedError, UnsupportedVersionError
from cordon_client.wire import Field, b64e, label

__all__ = ["Field", "b64e", "label"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def translated(fn: Callable[_P, _T]) -> Callable[_P, _T]:
    """Raise the SDK's exception for a wire-format refusal, keeping its message."""

    def call(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return fn(*args, **kwargs)
        except wire.UnsupportedVersion as exc:
            raise UnsupportedVersionError(str(exc)) from None
        except wire.WireFormatError as exc:
            raise MalformedError(str(exc)) from None

    call.__doc__ = fn.__doc__
    return call


field_bytes = translated(wire.field_bytes)
encode = translated(wire.enc)
signing_input = translated(wire.sig_input)
decode = translated(wire.dec)
b64d = translated(wire.b64d)
parse_uuid = translated(wire.parse_uuid)
canonical_json = translated(wire.canonical_json)
parse_canonical_json = translated(wire.parse_canonical_json)


sha256 = wire.sha256


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """HMAC-SHA-256 through the C implementation, which is fast for the ratchet's tiny inputs."""
    return hmac.digest(key, msg, "sha256")


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA-256 on stdlib HMAC, avoiding per-call object setup on hot paths."""
    if length > 255 * 32:
        raise ValueError("HKDF output too long")
    prk = hmac.digest(salt or b"\x00" * 32, ikm, "sha256")
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


def ct_equal(a: bytes, b: bytes) -> bool:
    """Compare secrets and MACs in constant time."""
    return hmac.compare_digest(a, b)


class Reader(wire.Reader):
    """The wire module's bounds-checked cursor, refusing with MalformedError."""

    __slots__ = ()

    def take(self, n: int) -> bytes:
        """The next `n` bytes, or MalformedError if the input is too short."""
        try:
            return super().take(n)
        except wire.WireFormatError as exc:
            raise MalformedError(str(exc)) from None

    def end(self) -> None:
        """Refuse trailing bytes."""
        if not self.done():
            raise MalformedError("unexpected trailing bytes")


def fields_to_ints(items: Iterable[bytes]) -> list[int]:
    """Decode u64 fields from `decode` output."""
    out = []
    for raw in items:
        if len(raw) != 8:
            raise MalformedError("integer field must be 8 bytes")
        out.append(int.from_bytes(raw, "big"))
    return out
