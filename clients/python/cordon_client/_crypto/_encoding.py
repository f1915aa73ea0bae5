"""Domain-separation labels and the canonical length-prefixed encoding (PROTOCOL.md §2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import uuid
from collections.abc import Iterable

from cordon_client.exceptions import MalformedError

Field = bytes | str | int | uuid.UUID

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


def label(purpose: str) -> bytes:
    """Prefix every signature input and HPKE `info` so one key never serves two purposes."""
    return b"CXM/1/" + purpose.encode("ascii") + b"\x00"


def field_bytes(value: Field) -> bytes:
    """Map one field to its canonical bytes: ints as u64, UUIDs raw, text as UTF-8."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, bool) or value < 0 or value >= 1 << 64:
        raise MalformedError("integer field out of range")
    return _U64.pack(value)


def encode(*fields: Field) -> bytes:
    """Length-prefix each field (u32 big-endian) so no two field lists encode alike."""
    out = bytearray()
    for value in fields:
        raw = field_bytes(value)
        out += _U32.pack(len(raw))
        out += raw
    return bytes(out)


def signing_input(purpose: str, *fields: Field) -> bytes:
    """Build the exact bytes that are signed or used as `info` for one purpose."""
    return label(purpose) + encode(*fields)


def decode(data: bytes) -> list[bytes]:
    """Split a canonical encoding back into its raw fields, rejecting trailing bytes."""
    reader = Reader(data)
    out: list[bytes] = []
    while not reader.done():
        out.append(reader.var(4))
    return out


def sha256(*parts: bytes) -> bytes:
    """Hash concatenated parts; used for entry hashes, epoch ids and signed digests."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


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


def b64e(data: bytes) -> str:
    """Encode bytes for JSON as unpadded base64url, the one text form used on the wire."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: object, *, length: int | None = None, what: str = "field") -> bytes:
    """Decode unpadded base64url strictly; reject padding, other alphabets and wrong lengths."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise MalformedError(f"{what}: expected unpadded base64url text")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise MalformedError(f"{what}: invalid base64url") from exc
    if b64e(raw) != text:
        raise MalformedError(f"{what}: non-canonical base64url")
    if length is not None and len(raw) != length:
        raise MalformedError(f"{what}: expected {length} bytes, got {len(raw)}")
    return raw


def parse_uuid(text: object, *, what: str = "id") -> uuid.UUID:
    """Accept only the canonical lowercase UUID string form used in JSON."""
    if not isinstance(text, str):
        raise MalformedError(f"{what}: expected a UUID string")
    try:
        value = uuid.UUID(text)
    except ValueError as exc:
        raise MalformedError(f"{what}: not a UUID") from exc
    if str(value) != text:
        raise MalformedError(f"{what}: UUID not in canonical lowercase form")
    return value


class Reader:
    """Bounds-checked cursor over binary input; every overrun is a MalformedError."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def take(self, n: int) -> bytes:
        """Return the next `n` bytes or fail if the input is too short."""
        end = self._pos + n
        if n < 0 or end > len(self._data):
            raise MalformedError("input truncated")
        out = bytes(self._data[self._pos : end])
        self._pos = end
        return out

    def u8(self) -> int:
        """Read one unsigned byte."""
        return self.take(1)[0]

    def u16(self) -> int:
        """Read a big-endian u16."""
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        """Read a big-endian u32."""
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        """Read a big-endian u64."""
        return int.from_bytes(self.take(8), "big")

    def uuid(self) -> uuid.UUID:
        """Read a 16-byte raw UUID."""
        return uuid.UUID(bytes=self.take(16))

    def var(self, width: int) -> bytes:
        """Read a length-prefixed field whose prefix is `width` bytes."""
        return self.take(int.from_bytes(self.take(width), "big"))

    def pos(self) -> int:
        """Offset of the next unread byte."""
        return self._pos

    def done(self) -> bool:
        """True when every byte has been consumed."""
        return self._pos == len(self._data)

    def end(self) -> None:
        """Fail on trailing bytes, which a canonical encoding never has."""
        if not self.done():
            raise MalformedError("unexpected trailing bytes")


def fields_to_ints(items: Iterable[bytes]) -> list[int]:
    """Decode u64 fields from `decode` output."""
    out = []
    for raw in items:
        if len(raw) != 8:
            raise MalformedError("integer field must be 8 bytes")
        out.append(_U64.unpack(raw)[0])
    return out
