"""Cordon's wire formats, protocol version 2: the one implementation server and SDK share.

Pure (standard library and `cryptography` only, no I/O): labels and the canonical encoding
(PROTOCOL.md §2), canonical JSON, the envelope layout with its signed labels, the wrap layout
and padding (§5). The server imports this module to check what it stores; the SDK seals and
opens with it; so both read the same bytes the same way. Every refusal is a `WireFormatError`
whose message names the field that is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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


# ---- §5.2 signed labels -----------------------------------------------------------------


class ContentType:
    """Envelope content types (PROTOCOL.md §5.1)."""

    MESSAGE = 1
    ALERT = 2
    PRENOTIFICATION = 3
    SENDER_KEY = 4
    DOCUMENT_KEY = 5
    LIBRARY_GRANT = 6
    HISTORY_TRANSFER = 7
    KEY_REQUEST = 8
    HISTORY_GRANT = 9


CONTENT_NAMES = {
    1: "message",
    2: "alert",
    3: "prenotification",
    4: "sender_key",
    5: "document_key",
    6: "library_grant",
    7: "history_transfer",
    8: "key_request",
    9: "history_grant",
}
BROADCAST_TYPES = frozenset({ContentType.MESSAGE, ContentType.ALERT})

TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF, TAG_ROLES, TAG_CATEGORY = 1, 2, 3, 4, 5
ROLE_DESTINATION, ROLE_TRANSIT = 1, 2
ROLE_NAMES = {ROLE_DESTINATION: "destination", ROLE_TRANSIT: "transit"}
_TAG_NAMES = {1: "urgent", 2: "reply_to", 3: "review_of", 4: "roles", 5: "category"}
# Which labels each content type may carry; anything else is refused.
LABELS_ALLOWED: dict[int, frozenset[int]] = {
    ContentType.MESSAGE: frozenset({TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF}),
    ContentType.ALERT: frozenset({TAG_URGENT, TAG_REPLY_TO, TAG_REVIEW_OF}),
    ContentType.PRENOTIFICATION: frozenset({TAG_URGENT, TAG_REPLY_TO, TAG_ROLES}),
    ContentType.DOCUMENT_KEY: frozenset({TAG_CATEGORY}),
}


class MessageRef(NamedTuple):
    """A stream item named as its sender knows it, before the server assigns a seq."""

    sender_device_id: uuid.UUID
    message_id: uuid.UUID

    def to_bytes(self) -> bytes:
        """`sender_device_id (16) ‖ message_id (16)`."""
        return self.sender_device_id.bytes + self.message_id.bytes


@dataclass(frozen=True, slots=True)
class Labels:
    """What a user sees beside the content, signed with it (PROTOCOL.md §5.2)."""

    urgent: bool = False
    reply_to: MessageRef | None = None
    review_of: MessageRef | None = None
    roles: tuple[tuple[uuid.UUID, int], ...] = ()
    category: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", tuple(sorted(self.roles, key=lambda r: r[0].bytes)))

    @property
    def target(self) -> MessageRef | None:
        """The item this one threads under (reply or review), if any."""
        return self.reply_to or self.review_of


NO_LABELS = Labels()


def encode_labels(labels: Labels, content_type: int) -> bytes:
    """TLV entries `u8 tag ‖ u16be len ‖ value` in ascending tag order (the label section)."""
    entries: list[tuple[int, bytes]] = []
    if labels.urgent:
        entries.append((TAG_URGENT, b""))
    if labels.reply_to is not None:
        entries.append((TAG_REPLY_TO, labels.reply_to.to_bytes()))
    if labels.review_of is not None:
        entries.append((TAG_REVIEW_OF, labels.review_of.to_bytes()))
    if labels.roles:
        value = b"".join(u.bytes + bytes([role]) for u, role in labels.roles)
        entries.append((TAG_ROLES, value))
    if labels.category is not None:
        entries.append((TAG_CATEGORY, labels.category.encode("ascii")))
    raw = b"".join(bytes([tag]) + len(v).to_bytes(2, "big") + v for tag, v in entries)
    decode_labels(raw, content_type)  # one definition of valid, for building and parsing
    return raw


def _role_entries(value: bytes) -> tuple[tuple[uuid.UUID, int], ...]:
    if not value or len(value) % 17:
        raise WireFormatError("labels.roles: must be 17-byte (user_id, role) entries")
    roles = [(uuid.UUID(bytes=value[i : i + 16]), value[i + 16]) for i in range(0, len(value), 17)]
    ids = [u.bytes for u, _ in roles]
    if ids != sorted(set(ids)):
        raise WireFormatError("labels.roles: user ids must be strictly ascending")
    if any(role not in ROLE_NAMES for _, role in roles):
        raise WireFormatError("labels.roles: unknown role code")
    return tuple(roles)


def _category(value: bytes) -> str:
    if not 1 <= len(value) <= 64 or not all(0x21 <= b <= 0x7E for b in value):
        raise WireFormatError("labels.category: 1..64 printable ASCII bytes")
    return value.decode("ascii")


def decode_labels(raw: bytes, content_type: int) -> Labels:
    """Parse and check a label section against what `content_type` may carry."""
    reader = Reader(raw)
    found: dict[int, bytes] = {}
    last = 0
    while not reader.done():
        tag = reader.u8()
        value = reader.var(2)
        if tag not in _TAG_NAMES:
            raise WireFormatError(f"labels: unknown tag {tag}")
        if tag <= last:
            raise WireFormatError("labels: tags must be strictly ascending")
        if tag not in LABELS_ALLOWED.get(content_type, frozenset()):
            name = CONTENT_NAMES.get(content_type, str(content_type))
            raise WireFormatError(f"labels.{_TAG_NAMES[tag]}: not allowed on {name} content")
        last = tag
        found[tag] = value
    if TAG_URGENT in found and found[TAG_URGENT]:
        raise WireFormatError("labels.urgent: must be empty")
    refs: dict[int, MessageRef] = {}
    for tag in (TAG_REPLY_TO, TAG_REVIEW_OF):
        if tag in found:
            value = found[tag]
            if len(value) != 32:
                raise WireFormatError(f"labels.{_TAG_NAMES[tag]}: must be 32 bytes")
            refs[tag] = MessageRef(uuid.UUID(bytes=value[:16]), uuid.UUID(bytes=value[16:]))
    if len(refs) == 2:
        raise WireFormatError("labels: an item is a reply or a review, not both")
    return Labels(
        urgent=TAG_URGENT in found,
        reply_to=refs.get(TAG_REPLY_TO),
        review_of=refs.get(TAG_REVIEW_OF),
        roles=_role_entries(found[TAG_ROLES]) if TAG_ROLES in found else (),
        category=_category(found[TAG_CATEGORY]) if TAG_CATEGORY in found else None,
    )


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
