"""Sealing and opening v2 envelopes (PROTOCOL.md §5); the byte layout is `cordon_client.wire`.

This module adds keys to the wire layout: the fresh content key and its HPKE wraps for a
targeted envelope, the sender-chain key for a broadcast, the device signature, and the
receiver's side of each. Layout errors surface as the SDK's `MalformedError`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cordon_client import wire
from cordon_client.crypto._encoding import translated
from cordon_client.crypto.keys import verify_sig
from cordon_client.crypto.ratchet import SenderChain
from cordon_client.exceptions import DecryptionError, KeyUnavailableError
from cordon_client.wire import Envelope, Labels, MessageRef
from cordon_client.wire import Header as RoutingHeader
from cordon_client.wire.labels import ContentType

MAGIC = wire.MAGIC
VERSION = wire.PROTOCOL_VERSION
HEADER_FIXED = wire.HEADER_FIXED
WRAP_SIZE = wire.WRAP_SIZE
MIN_BUCKET = wire.MIN_BUCKET
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_ZERO_NONCE = b"\x00" * 12

__all__ = [
    "ContentType",
    "Envelope",
    "Kind",
    "Labels",
    "MessageRef",
    "PrekeyLookup",
    "Recipient",
    "RoutingHeader",
    "parse_envelope",
    "parse_routing_header",
    "seal_broadcast",
    "seal_targeted",
]


class Kind(IntEnum):
    """Envelope kind: who can read it and how the content key is delivered."""

    TARGETED = wire.TARGETED
    BROADCAST = wire.BROADCAST


BROADCAST_TYPES = frozenset(ContentType(t) for t in wire.BROADCAST_TYPES)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A roster device and the verified prekey its wrap is sealed to.

    `prekey_type` is 1 for the device's signed prekey, 2 for a one-time prekey; which one a
    sender picks is the caller's decision (PROTOCOL.md §3), this module only seals to it."""

    device_id: uuid.UUID
    prekey_id: int
    public_key: X25519PublicKey
    prekey_type: int = wire.PREKEY_SIGNED


# The receiver's private prekey for a wrap's (prekey_type, prekey_id), or None if deleted.
PrekeyLookup = Callable[[int, int], X25519PrivateKey | None]

parse_envelope = translated(wire.parse_envelope)
pad = translated(wire.pad)


def parse_routing_header(envelope_bytes: bytes) -> RoutingHeader:
    """Validate an envelope's structure and return its signed header."""
    return parse_envelope(envelope_bytes).header


def unpad(padded: bytes) -> bytes:
    """Strip padding; every failure is the single DecryptionError."""
    try:
        return wire.unpad(padded)
    except wire.WireFormatError:
        raise DecryptionError("message could not be decrypted") from None


encode_header = translated(wire.encode_header)


def _sign(key: Ed25519PrivateKey, header: bytes, keying: bytes, ct: bytes) -> bytes:
    sig = key.sign(wire.envelope_signing_input(header, keying, ct))
    return wire.assemble(header, keying, ct, sig)


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
    labels: Labels = wire.NO_LABELS,
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
        labels=labels,
    )
    content_key = os.urandom(32)
    # A fresh key per envelope makes the fixed nonce safe.
    ct = AESGCM(content_key).encrypt(_ZERO_NONCE, pad(content), wire.content_aad(header))
    header_hash = wire.sha256(header)
    wraps = []
    for r in recipients:
        info = wire.wrap_info(header_hash, r.device_id, r.prekey_type, r.prekey_id)
        sealed = SUITE.encrypt(content_key, r.public_key, info=info)
        enc, wrapped = sealed[: wire.HPKE_ENC_SIZE], sealed[wire.HPKE_ENC_SIZE :]
        wraps.append(wire.Wrap(r.prekey_type, r.prekey_id, enc, wrapped).to_bytes())
    return _sign(signing_key, header, b"".join(wraps), ct)


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
    labels: Labels = wire.NO_LABELS,
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
        labels=labels,
    )
    index, key, nonce = chain.next_key()
    keying = chain.chain_id.bytes + index.to_bytes(4, "big")
    ct = AESGCM(key).encrypt(nonce, pad(content), wire.content_aad(header))
    return _sign(signing_key, header, keying, ct)


def verify_envelope(env: Envelope, device_signing_key: bytes) -> None:
    """Check the sender device's signature over header, keying and ciphertext."""
    verify_sig(device_signing_key, env.signature, env.signing_input(), what="envelope")


def broadcast_position(env: Envelope) -> tuple[uuid.UUID, int]:
    """Return (chain_id, index) from a broadcast's keying section."""
    return env.broadcast_position()


def open_wrap(env: Envelope, device_id: uuid.UUID, prekeys: PrekeyLookup) -> bytes:
    """Find this device's wrap and HPKE-open the content key with the prekey it names."""
    wrap = env.wrap_for(device_id)
    if wrap is None:
        raise KeyUnavailableError("this device is not a recipient of the envelope")
    private = prekeys(wrap.prekey_type, wrap.prekey_id)
    if private is None:
        if wrap.prekey_type == wire.PREKEY_ONE_TIME:
            raise KeyUnavailableError(
                f"one-time prekey {wrap.prekey_id} is unknown or already used"
            )
        raise KeyUnavailableError(f"prekey {wrap.prekey_id} is unknown or already deleted")
    info = wire.wrap_info(wire.sha256(env.header.raw), device_id, wrap.prekey_type, wrap.prekey_id)
    try:
        key = SUITE.decrypt(wrap.enc + wrap.ct, private, info=info)
    except (InvalidTag, ValueError):
        raise DecryptionError("message could not be decrypted") from None
    if len(key) != 32:
        raise DecryptionError("message could not be decrypted")
    return key


def decrypt_body(env: Envelope, key: bytes, nonce: bytes = _ZERO_NONCE) -> bytes:
    """AES-GCM-open the body with the header as AAD and strip the padding."""
    try:
        padded = AESGCM(key).decrypt(nonce, env.ciphertext, wire.content_aad(env.header.raw))
    except InvalidTag:
        raise DecryptionError("message could not be decrypted") from None
    return unpad(padded)
