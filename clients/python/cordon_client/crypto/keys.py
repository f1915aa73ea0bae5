"""Key types, signed prekeys and trust-root fingerprints (PROTOCOL.md §3)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from cordon_client.crypto._encoding import b64d, b64e, parse_uuid, signing_input
from cordon_client.exceptions import KeyUnavailableError, MalformedError, SignatureError

DAY_MS = 86_400_000
PREKEY_LIFETIME_MS = 7 * DAY_MS
PREKEY_GRACE_MS = 2 * DAY_MS  # private half kept this long after its replacement is made
FINGERPRINT_ITERATIONS = 5200
QR_PREFIX = "cordon-root:1:"


def new_signing_key() -> Ed25519PrivateKey:
    """Generate a fresh Ed25519 key for a coordinator, member or device."""
    return Ed25519PrivateKey.generate()


def signing_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    """Derive an Ed25519 key from a 32-byte seed so test vectors are reproducible."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the 32-byte raw public key that appears in the log and on the wire."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes_raw()


def verify_sig(public_key: bytes, signature: bytes, message: bytes, *, what: str) -> None:
    """Verify an Ed25519 signature, raising SignatureError that names the object."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError(f"{what}: signature does not verify") from exc


@dataclass(frozen=True, slots=True)
class SignedPrekey:
    """An X25519 HPKE recipient key signed by its device; the server stores and serves it."""

    device_id: uuid.UUID
    prekey_id: int
    public_key: bytes
    created_ts: int
    expires_ts: int
    signature: bytes

    def signed_bytes(self) -> bytes:
        """Bytes the device key signs, binding the key to its device, id and lifetime."""
        return prekey_signing_input(
            self.device_id, self.prekey_id, self.public_key, self.created_ts, self.expires_ts
        )

    def to_json(self) -> dict[str, object]:
        """Serialise for the key directory."""
        return {
            "device_id": str(self.device_id),
            "prekey_id": self.prekey_id,
            "public_key": b64e(self.public_key),
            "created_ts": self.created_ts,
            "expires_ts": self.expires_ts,
            "sig": b64e(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> SignedPrekey:
        """Parse a key-directory record strictly."""
        if not isinstance(obj, dict) or set(obj) != {
            "device_id",
            "prekey_id",
            "public_key",
            "created_ts",
            "expires_ts",
            "sig",
        }:
            raise MalformedError("prekey: unexpected fields")
        ints = [obj["prekey_id"], obj["created_ts"], obj["expires_ts"]]
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ints):
            raise MalformedError("prekey: integer fields must be non-negative integers")
        return cls(
            device_id=parse_uuid(obj["device_id"], what="prekey.device_id"),
            prekey_id=obj["prekey_id"],
            public_key=b64d(obj["public_key"], length=32, what="prekey.public_key"),
            created_ts=obj["created_ts"],
            expires_ts=obj["expires_ts"],
            signature=b64d(obj["sig"], length=64, what="prekey.sig"),
        )


def prekey_signing_input(
    device_id: uuid.UUID, prekey_id: int, public_key: bytes, created_ts: int, expires_ts: int
) -> bytes:
    """Canonical signing input for a prekey (label `prekey`)."""
    return signing_input("prekey", device_id, prekey_id, public_key, created_ts, expires_ts)


def make_prekey(
    device_key: Ed25519PrivateKey,
    device_id: uuid.UUID,
    prekey_id: int,
    now_ms: int,
    *,
    private: X25519PrivateKey | None = None,
) -> tuple[X25519PrivateKey, SignedPrekey]:
    """Create and sign a prekey valid for seven days from `now_ms`."""
    if not 0 <= prekey_id < 1 << 32:
        raise ValueError("prekey_id must fit in u32")
    priv = private or X25519PrivateKey.generate()
    pub = priv.public_key().public_bytes_raw()
    expires = now_ms + PREKEY_LIFETIME_MS
    sig = device_key.sign(prekey_signing_input(device_id, prekey_id, pub, now_ms, expires))
    return priv, SignedPrekey(device_id, prekey_id, pub, now_ms, expires, sig)


def verify_prekey(prekey: SignedPrekey, device_signing_key: bytes, now_ms: int) -> X25519PublicKey:
    """Accept a served prekey only if its roster device signed it and it has not expired."""
    verify_sig(device_signing_key, prekey.signature, prekey.signed_bytes(), what="prekey")
    if not prekey.created_ts <= now_ms < prekey.expires_ts:
        raise KeyUnavailableError(f"prekey {prekey.prekey_id} of {prekey.device_id} is expired")
    if prekey.expires_ts - prekey.created_ts > PREKEY_LIFETIME_MS:
        raise KeyUnavailableError("prekey lifetime exceeds seven days")
    return X25519PublicKey.from_public_bytes(prekey.public_key)


def fingerprint(group_id: uuid.UUID, root_key: bytes) -> str:
    """Render the trust root as 12 groups of 5 digits for out-of-band comparison."""
    digest = signing_input("fingerprint", group_id, root_key)
    for _ in range(FINGERPRINT_ITERATIONS):
        digest = hashlib.sha512(digest + root_key).digest()
    groups = [int.from_bytes(digest[i * 5 : i * 5 + 5], "big") % 100_000 for i in range(12)]
    return " ".join(f"{g:05d}" for g in groups)


def qr_payload(group_id: uuid.UUID, root_key: bytes) -> str:
    """Encode the trust root for a QR code that another client scans and compares exactly."""
    return f"{QR_PREFIX}{group_id}:{b64e(root_key)}"


def parse_qr_payload(payload: str) -> tuple[uuid.UUID, bytes]:
    """Read a scanned QR payload back into (group_id, root key)."""
    if not payload.startswith(QR_PREFIX):
        raise MalformedError("QR payload: not a Cordon trust-root code")
    parts = payload[len(QR_PREFIX) :].split(":")
    if len(parts) != 2:
        raise MalformedError("QR payload: expected group id and key")
    return parse_uuid(parts[0], what="QR group id"), b64d(parts[1], length=32, what="QR key")


def root_matches_qr(payload: str, group_id: uuid.UUID, root_key: bytes) -> bool:
    """Compare a scanned payload with the pinned root; True only on an exact match."""
    try:
        return parse_qr_payload(payload) == (group_id, root_key)
    except MalformedError:
        return False
