"""RFC 9180 base-mode HPKE written out step by step, for known-answer vectors only.

Suite: DHKEM(X25519, HKDF-SHA256) (0x0020), HKDF-SHA256 (0x0001), AES-256-GCM (0x0002). The
library's `hpke.Suite` draws its ephemeral key at random and shows no intermediate value; this
reference takes the ephemeral key as input and returns every value RFC 9180 names, so a
second implementation can check itself step by step, and `Suite.decrypt` proves the two agree.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0002
KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + b"".join(i.to_bytes(2, "big") for i in (KEM_ID, KDF_ID, AEAD_ID))
MODE_BASE = b"\x00"


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or b"\x00" * 32, ikm, "sha256")


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
        counter += 1
    return out[:length]


def labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    """RFC 9180 §4: LabeledExtract."""
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    """RFC 9180 §4: LabeledExpand."""
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


@dataclass(frozen=True)
class HpkeTrace:
    """Every intermediate value of one base-mode seal (RFC 9180 §4.1, §5.1, §5.2)."""

    enc: bytes
    dh: bytes
    kem_context: bytes
    shared_secret: bytes
    psk_id_hash: bytes
    info_hash: bytes
    key_schedule_context: bytes
    secret: bytes
    key: bytes
    base_nonce: bytes
    ct: bytes

    def as_hex(self) -> dict[str, str]:
        """Every value in hex, by its RFC 9180 name (as the vector files store them)."""
        return {name: getattr(self, name).hex() for name in self.__dataclass_fields__}


def seal_base(
    recipient: X25519PublicKey, ephemeral: X25519PrivateKey, info: bytes, plaintext: bytes
) -> HpkeTrace:
    """Base-mode single-shot seal with a given ephemeral key and empty AAD."""
    enc = ephemeral.public_key().public_bytes_raw()
    dh = ephemeral.exchange(recipient)
    kem_context = enc + recipient.public_bytes_raw()
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    shared_secret = labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", kem_context, 32)
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = MODE_BASE + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE, shared_secret, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    base_nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    ciphertext = AESGCM(key).encrypt(base_nonce, plaintext, b"")
    return HpkeTrace(
        enc,
        dh,
        kem_context,
        shared_secret,
        psk_id_hash,
        info_hash,
        context,
        secret,
        key,
        base_nonce,
        ciphertext,
    )


def sha256(data: bytes) -> bytes:
    """SHA-256, for header hashes in the vectors."""
    return hashlib.sha256(data).digest()
