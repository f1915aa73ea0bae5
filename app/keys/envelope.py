"""The server's mirror of the envelope layout (docs/PROTOCOL.md §5.1).

The server routes on the header and checks the sender device's signature over the whole
envelope, so a structurally invalid, truncated or forged envelope is refused with a 4xx before
anything is stored. It never sees keys or content.
"""

import hashlib
import struct
import uuid
from dataclasses import dataclass

from app.keys.protocol import FormatError, encode, label, verify_signature

MAGIC = b"CXM"
VERSION = 1
HEADER_FIXED = 96
WRAP_SIZE = 84
BROADCAST_KEYING_SIZE = 20
SIG_SIZE = 64
MAX_RECIPIENTS = 4096
MAX_BODY = 64 * 1024 * 1024
TAG = 16
TARGETED, BROADCAST = 1, 2
CONTENT_TYPES = {
    1: "message",
    2: "alert",
    3: "prenotification",
    4: "sender_key",
    5: "document_key",
    6: "library_grant",
    7: "history_transfer",
    9: "history_grant",
}
BROADCAST_TYPES = frozenset({1, 2, 3})
_FIXED = struct.Struct(">3sBBB16s32s16s16sQH")


@dataclass(frozen=True)
class EnvelopeHeader:
    """The routing header, plus what the signature check needs."""

    kind: int
    content_type: int
    group_id: uuid.UUID
    epoch_id: bytes
    sender_device_id: uuid.UUID
    message_id: uuid.UUID
    ts: int
    recipients: tuple[uuid.UUID, ...]
    signed_input: bytes
    signature: bytes

    @property
    def content_name(self) -> str:
        return CONTENT_TYPES[self.content_type]


def _is_bucket(size: int) -> bool:
    if size <= 65536:
        return size >= 256 and size & (size - 1) == 0
    return size % 65536 == 0


def parse_envelope(data: bytes) -> EnvelopeHeader:
    """Check the whole layout without keys; raise FormatError naming what is wrong."""
    if len(data) < HEADER_FIXED:
        raise FormatError("envelope: shorter than the fixed header")
    magic, ver, kind, ctype, gid, epoch, sender, mid, ts, n = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise FormatError("envelope: bad magic")
    if ver != VERSION:
        raise FormatError(f"envelope: version {ver} is not supported")
    if kind not in (TARGETED, BROADCAST) or ctype not in CONTENT_TYPES:
        raise FormatError("envelope: unknown kind or content type")
    if kind == BROADCAST and (n != 0 or ctype not in BROADCAST_TYPES):
        raise FormatError("envelope: a broadcast is for the whole group, chat content only")
    if kind == TARGETED and not 1 <= n <= MAX_RECIPIENTS:
        raise FormatError(f"envelope: a targeted envelope needs 1..{MAX_RECIPIENTS} recipients")
    hlen = HEADER_FIXED + 16 * n
    if len(data) < hlen + 8 + SIG_SIZE:
        raise FormatError("envelope: truncated")
    recipients = tuple(uuid.UUID(bytes=data[o : o + 16]) for o in range(HEADER_FIXED, hlen, 16))
    if len(set(recipients)) != n:
        raise FormatError("envelope: duplicate recipient")
    klen = int.from_bytes(data[hlen : hlen + 4], "big")
    if klen != (WRAP_SIZE * n if kind == TARGETED else BROADCAST_KEYING_SIZE):
        raise FormatError("envelope: keying section has the wrong length")
    cpos = hlen + 4 + klen
    if len(data) < cpos + 4:
        raise FormatError("envelope: truncated")
    clen = int.from_bytes(data[cpos : cpos + 4], "big")
    if clen < TAG or not _is_bucket(clen - TAG) or clen - TAG > MAX_BODY:
        raise FormatError("envelope: ciphertext is not a padded bucket size")
    if len(data) != cpos + 4 + clen + SIG_SIZE:
        raise FormatError("envelope: length does not match its sections")
    keying, ciphertext = data[hlen + 4 : cpos], data[cpos + 4 : -SIG_SIZE]
    signed = label("envelope") + encode(
        bytes(data[:hlen]), hashlib.sha256(keying).digest(), hashlib.sha256(ciphertext).digest()
    )
    return EnvelopeHeader(
        kind,
        ctype,
        uuid.UUID(bytes=gid),
        epoch,
        uuid.UUID(bytes=sender),
        uuid.UUID(bytes=mid),
        ts,
        recipients,
        signed,
        bytes(data[-SIG_SIZE:]),
    )


def verify_sender(header: EnvelopeHeader, *, device_signing_key: bytes) -> None:
    """The sending device signed this envelope; a forgery is refused before storage."""
    verify_signature(device_signing_key, header.signature, header.signed_input, "envelope")
