"""Small forgeries an operator makes to bytes and their text forms on the wire."""

import base64

from cordon_client.crypto._encoding import b64d, b64e


def flip_byte(data: bytes, offset: int = -1) -> bytes:
    """`data` with the byte at `offset` inverted (the smallest forgery)."""
    i = offset % len(data)
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]


def flip_b64url(text: str, offset: int = -1) -> str:
    """An unpadded base64url field (log entries, keys, signatures) with one byte inverted."""
    return b64e(flip_byte(b64d(text), offset))


def flip_b64(text: str, offset: int = -1) -> str:
    """A standard base64 field (stream items' `envelope`) with one byte inverted."""
    return base64.b64encode(flip_byte(base64.b64decode(text), offset)).decode()
