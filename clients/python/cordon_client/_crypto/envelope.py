"""Versioned binary envelopes: routing header, padding, wraps, signatures (PROTOCOL.md §5)."""

from __future__ import annotations

import os
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cordon_client._crypto._encoding import label, sha256, signing_input
from cordon_client._crypto.keys import verify_sig
from cordon_client._crypto.ratchet import SenderChain
from cordon_client.exceptions import (
    DecryptionError,
    KeyUnavailableError,
    MalformedError,
    UnsupportedVersionError,
)

MAGIC = b"CXM"
VERSION = 1
HEADER_FIXED = 96
WRAP_SIZE = 84
BROADCAST_KEYING_SIZE = 20
SIG_SIZE = 64
MAX_RECIPIENTS = 4096
MAX_BODY = 64 * 1024 * 1024
MIN_BUCKET = 256
LARGE_STEP = 64 * 1024
TAG = 16
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_ZERO_NONCE = b"\x00" * 12
_CONTENT_LABEL = label("content")
_FIXED = struct.Struct(">3sBBB16s32s16s16sQH")


class Kind(IntEnum):
    """Envelope kind: who can read it and how the content key is delivered."""

    TARGETED = 1
    BROADCAST = 2


class ContentType(IntEnum):
    """What the decrypted content is; key-carrying types are accepted only as TARGETED."""

    MESSAGE = 1
    ALERT = 2
    PRENOTIFICATION = 3
    SENDER_KEY = 4
    DOCUMENT_KEY = 5
    LIBRARY_GRANT = 6
    HISTORY_TRANSFER = 7
    HISTORY_GRANT = 9


BROADCAST_TYPES = frozenset({ContentType.MESSAGE, ContentType.ALERT, ContentType.PRENOTIFICATION})


@dataclass(frozen=True, slots=True)
class RoutingHeader:
    """What the server may see and route on; every field is covered by the sender's signature."""

    version: int
    kind: int
    content_type: int
    group_id: uuid.UUID
    epoch_id: bytes
    sender_device_id: uuid.UUID
    message_id: uuid.UUID
    ts: int
    recipients: tuple[uuid.UUID, ...]
    raw: bytes

    @property
    def whole_group(self) -> bool:
        """True when the envelope is for every roster device (broadcast)."""
        return not self.recipients


@dataclass(frozen=True, slots=True)
class Envelope:
    """A structurally valid envelope split into its signed parts."""

    header: RoutingHeader
    keying: bytes
    ciphertext: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Recipient:
    """A roster device and its verified prekey, ready to receive a wrap."""

    device_id: uuid.UUID
    prekey_id: int
    public_key: X25519PublicKey


def _bad(reason: str) -> MalformedError:
    return MalformedError("envelope: " + reason)


def _is_bucket(size: int) -> bool:
    """Padded sizes are 256..65536 in powers of two, then multiples of 64 KiB."""
    if size <= LARGE_STEP:
        return size >= MIN_BUCKET and size & (size - 1) == 0
    return size % LARGE_STEP == 0


def parse_envelope(data: bytes) -> Envelope:
    """Check the whole layout without keys and split it; the server mirrors this."""
    if len(data) < HEADER_FIXED:
        raise _bad("shorter than the fixed header")
    magic, ver, kind, ctype, gid, epoch, sender, mid, ts, n = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise _bad("bad magic")
    if ver != VERSION:
        raise UnsupportedVersionError(f"envelope version {ver} is not supported")
    if kind not in (Kind.TARGETED, Kind.BROADCAST):
        raise _bad(f"unknown kind {kind}")
    if ctype not in ContentType._value2member_map_:
        raise _bad(f"unknown content type {ctype}")
    if kind == Kind.BROADCAST and (n != 0 or ctype not in BROADCAST_TYPES):
        raise _bad("a broadcast is for the whole group and carries chat content only")
    if kind == Kind.TARGETED and not 1 <= n <= MAX_RECIPIENTS:
        raise _bad(f"a targeted envelope needs 1..{MAX_RECIPIENTS} recipients")
    hlen = HEADER_FIXED + 16 * n
    if len(data) < hlen + 8 + SIG_SIZE:
        raise _bad("truncated")
    recipients = tuple(uuid.UUID(bytes=data[o : o + 16]) for o in range(HEADER_FIXED, hlen, 16))
    if len(set(recipients)) != n:
        raise _bad("duplicate recipient")
    klen = int.from_bytes(data[hlen : hlen + 4], "big")
    want = WRAP_SIZE * n if kind == Kind.TARGETED else BROADCAST_KEYING_SIZE
    if klen != want:
        raise _bad("keying section has the wrong length")
    cpos = hlen + 4 + klen
    if len(data) < cpos + 4:
        raise _bad("truncated")
    clen = int.from_bytes(data[cpos : cpos + 4], "big")
    if clen < TAG or not _is_bucket(clen - TAG) or clen - TAG > MAX_BODY:
        raise _bad("ciphertext is not a padded bucket size")
    if len(data) != cpos + 4 + clen + SIG_SIZE:
        raise _bad("length does not match its sections")
    header = RoutingHeader(
        ver,
        kind,
        ctype,
        uuid.UUID(bytes=gid),
        epoch,
        uuid.UUID(bytes=sender),
        uuid.UUID(bytes=mid),
        ts,
        recipients,
        bytes(data[:hlen]),
    )
    return Envelope(
        header,
        bytes(data[hlen + 4 : cpos]),
        bytes(data[cpos + 4 : -SIG_SIZE]),
        bytes(data[-SIG_SIZE:]),
    )


def parse_routing_header(envelope_bytes: bytes) -> RoutingHeader:
    """Validate an envelope's structure and return the header the server routes on."""
    return parse_envelope(envelope_bytes).header


def encode_header(
    *,
    kind: Kind,
    content_type: ContentType,
    group_id: uuid.UUID,
    epoch_id: bytes,
    sender_device_id: uuid.UUID,
    message_id: uuid.UUID,
    ts: int,
    recipients: Sequence[uuid.UUID] = (),
) -> bytes:
    """Lay out the routing header exactly as §5.1 specifies."""
    if len(epoch_id) != 32:
        raise ValueError("epoch_id must be 32 bytes")
    fixed = _FIXED.pack(
        MAGIC,
        VERSION,
        kind,
        content_type,
        group_id.bytes,
        epoch_id,
        sender_device_id.bytes,
        message_id.bytes,
        ts,
        len(recipients),
    )
    return fixed + b"".join(r.bytes for r in recipients)


def pad(content: bytes) -> bytes:
    """Prefix the length and zero-fill to the next bucket so sizes leak only coarsely."""
    need = len(content) + 4
    if need > MAX_BODY:
        raise ValueError("content too large for one envelope; use a document")
    size = MIN_BUCKET
    while size < need and size < LARGE_STEP:
        size *= 2
    if need > size:
        size = -(-need // LARGE_STEP) * LARGE_STEP
    return len(content).to_bytes(4, "big") + content + bytes(size - need)


def unpad(padded: bytes) -> bytes:
    """Strip padding, rejecting a length that overruns or non-zero fill."""
    n = int.from_bytes(padded[:4], "big")
    if n > len(padded) - 4 or padded[4 + n :].count(0) != len(padded) - 4 - n:
        raise DecryptionError("message could not be decrypted")
    return padded[4 : 4 + n]


def sign_input(header: bytes, keying: bytes, ciphertext: bytes) -> bytes:
    """What the sending device signs: header, keying-section hash and ciphertext hash."""
    return signing_input("envelope", header, sha256(keying), sha256(ciphertext))


def wrap_info(header_hash: bytes, device_id: uuid.UUID, prekey_id: int) -> bytes:
    """HPKE `info` binding a wrap to this header's hash, one recipient device and one prekey."""
    return signing_input("wrap", header_hash, device_id, prekey_id)


def _assemble(key: Ed25519PrivateKey, header: bytes, keying: bytes, ct: bytes) -> bytes:
    sig = key.sign(sign_input(header, keying, ct))
    return b"".join(
        (header, len(keying).to_bytes(4, "big"), keying, len(ct).to_bytes(4, "big"), ct, sig)
    )


def seal_targeted(
    *,
    signing_key: Ed25519PrivateKey,
    sender_device_id: uuid.UUID,
    group_id: uuid.UUID,
    epoch_id: bytes,
    content_type: ContentType,
    content: bytes,
    recipients: Sequence[Recipient],
    ts: int,
    message_id: uuid.UUID | None = None,
) -> bytes:
    """Encrypt once under a fresh content key and HPKE-wrap that key to each recipient device."""
    header = encode_header(
        kind=Kind.TARGETED,
        content_type=content_type,
        group_id=group_id,
        epoch_id=epoch_id,
        sender_device_id=sender_device_id,
        message_id=message_id or uuid.uuid4(),
        ts=ts,
        recipients=[r.device_id for r in recipients],
    )
    content_key = os.urandom(32)
    # A fresh key per message makes the fixed nonce safe.
    ct = AESGCM(content_key).encrypt(_ZERO_NONCE, pad(content), _CONTENT_LABEL + header)
    header_hash = sha256(header)
    wraps = b"".join(
        r.prekey_id.to_bytes(4, "big")
        + SUITE.encrypt(
            content_key, r.public_key, info=wrap_info(header_hash, r.device_id, r.prekey_id)
        )
        for r in recipients
    )
    return _assemble(signing_key, header, wraps, ct)


def seal_broadcast(
    *,
    signing_key: Ed25519PrivateKey,
    sender_device_id: uuid.UUID,
    group_id: uuid.UUID,
    epoch_id: bytes,
    content_type: ContentType,
    content: bytes,
    chain: SenderChain,
    ts: int,
    message_id: uuid.UUID | None = None,
) -> bytes:
    """Encrypt to the whole group under the next key of this device's sender chain."""
    header = encode_header(
        kind=Kind.BROADCAST,
        content_type=content_type,
        group_id=group_id,
        epoch_id=epoch_id,
        sender_device_id=sender_device_id,
        message_id=message_id or uuid.uuid4(),
        ts=ts,
    )
    index, key, nonce = chain.next_key()
    keying = chain.chain_id.bytes + index.to_bytes(4, "big")
    ct = AESGCM(key).encrypt(nonce, pad(content), _CONTENT_LABEL + header)
    return _assemble(signing_key, header, keying, ct)


def verify_envelope(env: Envelope, device_signing_key: bytes) -> None:
    """Check the sender device's signature over header, keying and ciphertext."""
    verify_sig(
        device_signing_key,
        env.signature,
        sign_input(env.header.raw, env.keying, env.ciphertext),
        what="envelope",
    )


def broadcast_position(env: Envelope) -> tuple[uuid.UUID, int]:
    """Return (chain_id, index) from a broadcast's keying section."""
    return uuid.UUID(bytes=env.keying[:16]), int.from_bytes(env.keying[16:20], "big")


def open_wrap(
    env: Envelope, device_id: uuid.UUID, prekeys: Mapping[int, X25519PrivateKey]
) -> bytes:
    """Find this device's wrap and HPKE-open the content key with the named prekey."""
    try:
        slot = env.header.recipients.index(device_id)
    except ValueError:
        raise KeyUnavailableError("this device is not a recipient of the envelope") from None
    wrap = env.keying[slot * WRAP_SIZE : (slot + 1) * WRAP_SIZE]
    prekey_id = int.from_bytes(wrap[:4], "big")
    private = prekeys.get(prekey_id)
    if private is None:
        raise KeyUnavailableError(f"prekey {prekey_id} is unknown or already deleted")
    info = wrap_info(sha256(env.header.raw), device_id, prekey_id)
    try:
        key = SUITE.decrypt(wrap[4:], private, info=info)
    except (InvalidTag, ValueError):
        raise DecryptionError("message could not be decrypted") from None
    if len(key) != 32:
        raise DecryptionError("message could not be decrypted")
    return key


def decrypt_body(env: Envelope, key: bytes, nonce: bytes = _ZERO_NONCE) -> bytes:
    """AES-GCM-open the body with the header as AAD and strip the padding."""
    try:
        padded = AESGCM(key).decrypt(nonce, env.ciphertext, _CONTENT_LABEL + env.header.raw)
    except InvalidTag:
        raise DecryptionError("message could not be decrypted") from None
    return unpad(padded)
