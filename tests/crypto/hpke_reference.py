"""An independent RFC 9180 base-mode HPKE (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
AES-256-GCM) with a chosen ephemeral key, for known-answer vectors: it exposes every
intermediate value, and `cryptography`'s HPKE must open what it seals."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0002
KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + b"".join(i.to_bytes(2, "big") for i in (KEM_ID, KDF_ID, AEAD_ID))


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or bytes(32), ikm, "sha256")


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


def labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class HpkeTrace:
    """Every value of one SealBase, in RFC 9180's names."""

    enc: bytes
    dh: bytes
    shared_secret: bytes
    key_schedule_context: bytes
    secret: bytes
    key: bytes
    base_nonce: bytes
    ct: bytes

    def as_hex(self) -> dict[str, str]:
        return {name: getattr(self, name).hex() for name in self.__dataclass_fields__}


def seal_base(
    recipient: X25519PublicKey, ephemeral: X25519PrivateKey, info: bytes, pt: bytes
) -> HpkeTrace:
    """SealBase(pkR, info, aad = "", pt) with the given ephemeral key."""
    enc = _raw(ephemeral.public_key())
    dh = ephemeral.exchange(recipient)
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    shared_secret = labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", enc + _raw(recipient), 32)
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE, shared_secret, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    base_nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    ct = AESGCM(key).encrypt(base_nonce, pt, b"")
    return HpkeTrace(enc, dh, shared_secret, context, secret, key, base_nonce, ct)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
