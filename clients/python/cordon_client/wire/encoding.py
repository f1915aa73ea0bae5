"""Errors, constants, labels and the canonical length-prefixed encoding (PROTOCOL.md §2.1)."""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid

PROTOCOL_VERSION = 2
MAGIC = b"CXM"
HEADER_FIXED = 96
LABELS_MAX = 1024
SIG_SIZE = 64
TAG_SIZE = 16
MAX_RECIPIENTS = 4096
MAX_BODY = 64 * 1024 * 1024
MIN_BUCKET = 256
LARGE_STEP = 64 * 1024
BROADCAST_KEYING_SIZE = 20
HPKE_ENC_SIZE = 32
HPKE_CT_SIZE = 48
WRAP_SIZE = 1 + 4 + HPKE_ENC_SIZE + HPKE_CT_SIZE
JSON_INT_MAX = (1 << 53) - 1

TARGETED, BROADCAST = 1, 2
PREKEY_SIGNED, PREKEY_ONE_TIME = 1, 2

Field = bytes | str | int | uuid.UUID

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_FIXED = struct.Struct(">3sBBB16s32s16s16sQH")


class WireFormatError(ValueError):
    """Bytes or JSON that are not a well-formed v2 protocol object; the text names the field."""


class UnsupportedVersion(WireFormatError):
    """A version number this implementation does not speak."""


# ---- §2 labels and canonical encoding ---------------------------------------------------


def label(purpose: str) -> bytes:
    """`"CXM/2/" ‖ purpose ‖ 0x00`: one key, one purpose."""
    return b"CXM/2/" + purpose.encode("ascii") + b"\x00"


def field_bytes(value: Field) -> bytes:
    """One field's canonical bytes: bytes as is, text UTF-8, ints u64be, UUIDs raw."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise WireFormatError("integer field out of range (u64)")
    return _U64.pack(value)


def enc(*fields: Field) -> bytes:
    """`u32be(len) ‖ bytes` per field, so no two field lists encode alike."""
    out = bytearray()
    for value in fields:
        raw = field_bytes(value)
        out += _U32.pack(len(raw))
        out += raw
    return bytes(out)


def sig_input(purpose: str, *fields: Field) -> bytes:
    """The exact bytes signed, or used as HPKE/KDF `info`, for one purpose."""
    return label(purpose) + enc(*fields)


def dec(data: bytes) -> list[bytes]:
    """Split `enc` output back into raw fields, refusing truncation and trailing bytes."""
    reader = Reader(data)
    out: list[bytes] = []
    while not reader.done():
        out.append(reader.var(4))
    return out


def sha256(*parts: bytes) -> bytes:
    """SHA-256 of the concatenated parts."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


def b64e(data: bytes) -> str:
    """Unpadded base64url, the one text form of bytes in JSON."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: object, *, length: int | None = None, what: str = "field") -> bytes:
    """Strict unpadded base64url (one value, one spelling), optionally of an exact length."""
    if not isinstance(text, str) or "=" in text or not text.isascii():
        raise WireFormatError(f"{what}: expected unpadded base64url text")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise WireFormatError(f"{what}: invalid base64url") from None
    if b64e(raw) != text:
        raise WireFormatError(f"{what}: non-canonical base64url")
    if length is not None and len(raw) != length:
        raise WireFormatError(f"{what}: expected {length} bytes, got {len(raw)}")
    return raw


def parse_uuid(text: object, *, what: str = "id") -> uuid.UUID:
    """Only the canonical lowercase UUID text, so one id has one JSON spelling."""
    if not isinstance(text, str):
        raise WireFormatError(f"{what}: expected a UUID string")
    try:
        value = uuid.UUID(text)
    except ValueError:
        raise WireFormatError(f"{what}: not a UUID") from None
    if str(value) != text:
        raise WireFormatError(f"{what}: UUID not in canonical lowercase form")
    return value


class Reader:
    """Bounds-checked cursor over binary input; an overrun is a WireFormatError."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def take(self, n: int) -> bytes:
        """The next `n` bytes, or a refusal if the input is too short."""
        end = self._pos + n
        if n < 0 or end > len(self._data):
            raise WireFormatError("input truncated")
        out = bytes(self._data[self._pos : end])
        self._pos = end
        return out

    def u8(self) -> int:
        """One unsigned byte."""
        return self.take(1)[0]

    def u16(self) -> int:
        """A big-endian u16."""
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        """A big-endian u32."""
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        """A big-endian u64."""
        return int.from_bytes(self.take(8), "big")

    def uuid(self) -> uuid.UUID:
        """A 16-byte raw UUID."""
        return uuid.UUID(bytes=self.take(16))

    def var(self, width: int) -> bytes:
        """A field prefixed by its length in `width` bytes."""
        return self.take(int.from_bytes(self.take(width), "big"))

    def pos(self) -> int:
        """Offset of the next unread byte."""
        return self._pos

    def done(self) -> bool:
        """True when every byte has been read."""
        return self._pos == len(self._data)

    def end(self) -> None:
        """Refuse trailing bytes, which a canonical encoding never has."""
        if not self.done():
            raise WireFormatError("unexpected trailing bytes")
