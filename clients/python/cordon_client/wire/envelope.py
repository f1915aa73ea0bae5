"""The v2 envelope layout, wraps and padding (§5.1, §5.3, §5.4), the routing-copy check
(§5.5) and the signed receipt input (§7.2)."""

from __future__ import annotations

import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cordon_client.wire.encoding import (
    BROADCAST,
    BROADCAST_KEYING_SIZE,
    HEADER_FIXED,
    LABELS_MAX,
    LARGE_STEP,
    MAGIC,
    MAX_BODY,
    MAX_RECIPIENTS,
    MIN_BUCKET,
    PREKEY_ONE_TIME,
    PREKEY_SIGNED,
    PROTOCOL_VERSION,
    SIG_SIZE,
    TAG_SIZE,
    TARGETED,
    WRAP_SIZE,
    UnsupportedVersion,
    WireFormatError,
    label,
    sha256,
    sig_input,
)
from cordon_client.wire.labels import (
    BROADCAST_TYPES,
    CONTENT_NAMES,
    NO_LABELS,
    ContentType,
    Labels,
    MessageRef,
    decode_labels,
    encode_labels,
)

_U32 = struct.Struct(">I")
_FIXED = struct.Struct(">3sBBB16s32s16s16sQH")

# ---- §5.4 padding -----------------------------------------------------------------------


def is_bucket(size: int) -> bool:
    """Padded sizes: powers of two from 256 to 65,536, then multiples of 65,536."""
    if size <= LARGE_STEP:
        return size >= MIN_BUCKET and size & (size - 1) == 0
    return size % LARGE_STEP == 0


def padded_size(content_len: int) -> int:
    """The bucket that holds `u32 length ‖ content`."""
    need = content_len + 4
    if need > MAX_BODY:
        raise WireFormatError("content too large for one envelope; use a document")
    size = MIN_BUCKET
    while size < need and size < LARGE_STEP:
        size *= 2
    if need > size:
        size = -(-need // LARGE_STEP) * LARGE_STEP
    return size


def pad(content: bytes) -> bytes:
    """`u32be(len) ‖ content ‖ zeros` up to the bucket, so sizes leak only coarsely."""
    size = padded_size(len(content))
    return _U32.pack(len(content)) + content + bytes(size - len(content) - 4)


def unpad(padded: bytes) -> bytes:
    """Strip padding; refuse a length that overruns or a fill that is not zero."""
    if len(padded) < 4:
        raise WireFormatError("padding: shorter than its length prefix")
    n = _U32.unpack_from(padded)[0]
    if n > len(padded) - 4:
        raise WireFormatError("padding: length overruns the body")
    if padded[4 + n :].count(0) != len(padded) - 4 - n:
        raise WireFormatError("padding: fill is not zero")
    return padded[4 : 4 + n]


# ---- §5.1 envelope layout ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    """The signed header: what the server routes on and checks, and the labels users see."""

    version: int
    kind: int
    content_type: int
    group_id: uuid.UUID
    epoch_id: bytes
    sender_device_id: uuid.UUID
    message_id: uuid.UUID
    ts: int
    recipients: tuple[uuid.UUID, ...]
    labels: Labels
    raw: bytes

    @property
    def whole_group(self) -> bool:
        """True for a broadcast to every roster device."""
        return not self.recipients

    @property
    def content_name(self) -> str:
        """The content type's name, for messages."""
        return CONTENT_NAMES[self.content_type]

    @property
    def ref(self) -> MessageRef:
        """How a reply or review names this envelope."""
        return MessageRef(self.sender_device_id, self.message_id)


class Wrap(NamedTuple):
    """One recipient's slot of a targeted envelope's keying section (85 bytes)."""

    prekey_type: int
    prekey_id: int
    enc: bytes
    ct: bytes

    def to_bytes(self) -> bytes:
        """`u8 prekey_type ‖ u32be prekey_id ‖ enc (32) ‖ ct (48)`."""
        return bytes([self.prekey_type]) + _U32.pack(self.prekey_id) + self.enc + self.ct


@dataclass(frozen=True, slots=True)
class Envelope:
    """A structurally valid envelope split into its signed parts."""

    header: Header
    keying: bytes
    ciphertext: bytes
    signature: bytes

    def signing_input(self) -> bytes:
        """What the sender device signed."""
        return envelope_signing_input(self.header.raw, self.keying, self.ciphertext)

    def wraps(self) -> list[Wrap]:
        """The targeted keying section, one wrap per recipient in header order."""
        return [
            parse_wrap(self.keying[i : i + WRAP_SIZE])
            for i in range(0, len(self.keying), WRAP_SIZE)
        ]

    def wrap_for(self, device_id: uuid.UUID) -> Wrap | None:
        """This recipient's wrap, or None if the device is not a recipient."""
        try:
            slot = self.header.recipients.index(device_id)
        except ValueError:
            return None
        return parse_wrap(self.keying[slot * WRAP_SIZE : (slot + 1) * WRAP_SIZE])

    def broadcast_position(self) -> tuple[uuid.UUID, int]:
        """(chain_id, index) of a broadcast's keying section."""
        return uuid.UUID(bytes=self.keying[:16]), _U32.unpack_from(self.keying, 16)[0]


def parse_wrap(raw: bytes) -> Wrap:
    """Split one 85-byte wrap; the prekey type must be 1 (signed) or 2 (one-time)."""
    if len(raw) != WRAP_SIZE:
        raise WireFormatError(f"wrap: must be {WRAP_SIZE} bytes")
    if raw[0] not in (PREKEY_SIGNED, PREKEY_ONE_TIME):
        raise WireFormatError(f"wrap: unknown prekey type {raw[0]}")
    return Wrap(raw[0], _U32.unpack_from(raw, 1)[0], raw[5:37], raw[37:])


def _bad(reason: str) -> WireFormatError:
    return WireFormatError("envelope: " + reason)


def _parse_header(data: bytes) -> Header:
    if len(data) < HEADER_FIXED:
        raise _bad("shorter than the fixed header")
    magic, ver, kind, ctype, gid, epoch, sender, mid, ts, n = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise _bad("bad magic")
    if ver != PROTOCOL_VERSION:
        raise UnsupportedVersion(f"envelope: version {ver} is not supported")
    if kind not in (TARGETED, BROADCAST):
        raise _bad(f"unknown kind {kind}")
    if ctype not in CONTENT_NAMES:
        raise _bad(f"unknown content type {ctype}")
    if kind == BROADCAST and (n != 0 or ctype not in BROADCAST_TYPES):
        raise _bad("a broadcast is for the whole group and carries message or alert content")
    if kind == TARGETED and not 1 <= n <= MAX_RECIPIENTS:
        raise _bad(f"a targeted envelope needs 1..{MAX_RECIPIENTS} recipients")
    pos = HEADER_FIXED + 16 * n
    if len(data) < pos + 2:
        raise _bad("truncated")
    recipients = tuple(uuid.UUID(bytes=data[o : o + 16]) for o in range(HEADER_FIXED, pos, 16))
    if len(set(recipients)) != n:
        raise _bad("duplicate recipient")
    llen = int.from_bytes(data[pos : pos + 2], "big")
    if llen > LABELS_MAX or len(data) < pos + 2 + llen:
        raise _bad("label section too long or truncated")
    labels = decode_labels(bytes(data[pos + 2 : pos + 2 + llen]), ctype)
    return Header(
        ver,
        kind,
        ctype,
        uuid.UUID(bytes=gid),
        bytes(epoch),
        uuid.UUID(bytes=sender),
        uuid.UUID(bytes=mid),
        ts,
        recipients,
        labels,
        bytes(data[: pos + 2 + llen]),
    )


def parse_header(data: bytes) -> Header:
    """Only the signed header of an envelope (the rest unchecked): for routing lookups."""
    return _parse_header(data)


def parse_envelope(data: bytes) -> Envelope:
    """Check the whole v2 layout without keys and split it (server and receivers alike)."""
    header = _parse_header(data)
    hlen, n = len(header.raw), len(header.recipients)
    if len(data) < hlen + 8 + SIG_SIZE:
        raise _bad("truncated")
    klen = _U32.unpack_from(data, hlen)[0]
    want = WRAP_SIZE * n if header.kind == TARGETED else BROADCAST_KEYING_SIZE
    if klen != want:
        raise _bad("keying section has the wrong length")
    cpos = hlen + 4 + klen
    if len(data) < cpos + 4:
        raise _bad("truncated")
    clen = _U32.unpack_from(data, cpos)[0]
    if clen < TAG_SIZE or not is_bucket(clen - TAG_SIZE) or clen - TAG_SIZE > MAX_BODY:
        raise _bad("ciphertext is not a padded bucket size")
    if len(data) != cpos + 4 + clen + SIG_SIZE:
        raise _bad("length does not match its sections")
    env = Envelope(
        header,
        bytes(data[hlen + 4 : cpos]),
        bytes(data[cpos + 4 : -SIG_SIZE]),
        bytes(data[-SIG_SIZE:]),
    )
    if header.kind == TARGETED:
        env.wraps()  # every prekey type is checked here, not only the reader's own
    return env


def encode_header(
    *,
    kind: int,
    content_type: int,
    group_id: uuid.UUID,
    epoch_id: bytes,
    sender_device_id: uuid.UUID,
    message_id: uuid.UUID,
    ts: int,
    recipients: Sequence[uuid.UUID] = (),
    labels: Labels = NO_LABELS,
) -> bytes:
    """Lay out the signed header exactly as §5.1 specifies."""
    if len(epoch_id) != 32:
        raise WireFormatError("epoch_id: must be 32 bytes")
    raw_labels = encode_labels(labels, content_type)
    fixed = _FIXED.pack(
        MAGIC,
        PROTOCOL_VERSION,
        kind,
        content_type,
        group_id.bytes,
        epoch_id,
        sender_device_id.bytes,
        message_id.bytes,
        ts,
        len(recipients),
    )
    body = fixed + b"".join(r.bytes for r in recipients)
    return body + len(raw_labels).to_bytes(2, "big") + raw_labels


def envelope_signing_input(header: bytes, keying: bytes, ciphertext: bytes) -> bytes:
    """`sig_input("envelope", header, SHA-256(keying), SHA-256(ciphertext))`."""
    return sig_input("envelope", header, sha256(keying), sha256(ciphertext))


def content_aad(header: bytes) -> bytes:
    """AES-GCM associated data of the body: `label("content") ‖ header`."""
    return label("content") + header


def wrap_info(header_hash: bytes, device_id: uuid.UUID, prekey_type: int, prekey_id: int) -> bytes:
    """HPKE `info` binding a wrap to the header, one recipient device and one prekey."""
    return sig_input("wrap", header_hash, device_id, prekey_type, prekey_id)


def assemble(header: bytes, keying: bytes, ciphertext: bytes, signature: bytes) -> bytes:
    """Concatenate the sections with their length prefixes."""
    if len(signature) != SIG_SIZE:
        raise WireFormatError("signature: must be 64 bytes")
    return b"".join(
        (header, _U32.pack(len(keying)), keying, _U32.pack(len(ciphertext)), ciphertext, signature)
    )


def verify_ed25519(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when the Ed25519 signature verifies; a malformed key counts as a failure."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def message_id_of(envelope: bytes) -> uuid.UUID:
    """The message id at its fixed offset (70..86), for posting before a full parse."""
    return uuid.UUID(bytes=envelope[70:86])


# ---- §5.5 routing copy ------------------------------------------------------------------

# The posted `kind` each content type travels as (pre-notifications have their own route).
POSTED_KIND: dict[int, frozenset[str]] = {
    ContentType.MESSAGE: frozenset({"chat"}),
    ContentType.ALERT: frozenset({"alert"}),
    ContentType.PRENOTIFICATION: frozenset({"prenotification"}),
    ContentType.SENDER_KEY: frozenset({"sender_key"}),
    ContentType.DOCUMENT_KEY: frozenset({"library"}),
    ContentType.LIBRARY_GRANT: frozenset({"library"}),
    ContentType.HISTORY_TRANSFER: frozenset({"history_transfer"}),
    ContentType.KEY_REQUEST: frozenset({"sender_key"}),
    ContentType.HISTORY_GRANT: frozenset({"library"}),
}


def routing_mismatch(
    header: Header,
    *,
    kind: str,
    urgent: bool,
    parent: MessageRef | None,
    has_parent: bool,
) -> str | None:
    """Where a routing copy disagrees with the signed header, as `field: reason`, or None.

    `parent` is the (sender device, message id) of the item the copy's `parent_seq` names
    (None when it names nothing readable), `has_parent` whether the copy names one at all.
    The server runs this before storing; receivers run it on every item they open.
    """
    if kind not in POSTED_KIND[header.content_type]:
        return f"kind: {kind!r} but the envelope is signed as {header.content_name}"
    if urgent != header.labels.urgent:
        return f"urgent: {urgent} but the envelope is signed urgent={header.labels.urgent}"
    target = header.labels.target
    if target is None and has_parent:
        return "parent_seq: set but the envelope names no reply or review target"
    if target is not None and not has_parent:
        return "parent_seq: missing but the envelope names a reply or review target"
    if target is not None and parent != target:
        return "parent_seq: names another item than the envelope's signed target"
    return None


# ---- §7.2 signed receipts ---------------------------------------------------------------

RECEIPT_STATUSES = ("delivered", "read")


def receipt_signing_input(
    *, group_id: uuid.UUID, item: MessageRef, device_id: uuid.UUID, status: str, ts: int
) -> bytes:
    """What a receipting device signs: which item (as its sender named it), who, how far, when."""
    if status not in RECEIPT_STATUSES:
        raise WireFormatError(f"receipt.status: {status!r} is not delivered or read")
    return sig_input(
        "receipt", group_id, item.sender_device_id, item.message_id, device_id, status, ts
    )
