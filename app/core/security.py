"""Password hashing, opaque tokens, sealed TOTP secrets and signed cursors.

Nothing here keeps a secret in plaintext at rest: passwords are argon2id hashes, bearer tokens
and enrolment codes are stored as keyed HMACs, TOTP secrets are sealed with a key derived from
`CORDON_SECRET_KEY`, and pagination cursors are MACed so a forged cursor is refused.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
from functools import lru_cache
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.core.encoding import b64url

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# A real hash of a random password: verifying against it costs the same as a real account.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
TOTP_INTERVAL = 30


def hash_password(password: str) -> str:
    """argon2id hash with a per-password salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists, so timing reveals nothing."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """An opaque bearer secret; the prefix makes leaked tokens recognisable to scanners."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


@lru_cache(maxsize=16)
def _derive(secret_key: str, purpose: bytes, length: int = 32) -> bytes:
    return HKDF(hashes.SHA256(), length, salt=None, info=b"cordon/" + purpose).derive(
        secret_key.encode()
    )


def token_digest(secret_key: str, token: str) -> str:
    """The keyed hash under which a token or code is stored and looked up."""
    key = _derive(secret_key, b"token-digest")
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def seal_secret(secret_key: str, plaintext: str) -> bytes:
    """Encrypt a small server-side secret (a TOTP seed) for storage."""
    nonce = os.urandom(12)
    return nonce + AESGCM(_derive(secret_key, b"totp-seal")).encrypt(
        nonce, plaintext.encode(), b"cordon-totp"
    )


def open_secret(secret_key: str, sealed: bytes) -> str:
    """Decrypt what `seal_secret` stored."""
    aead = AESGCM(_derive(secret_key, b"totp-seal"))
    return aead.decrypt(sealed[:12], sealed[12:], b"cordon-totp").decode()


def new_totp_secret() -> str:
    """A 160-bit base32 TOTP seed, the size RFC 4226 recommends."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, account: str) -> str:
    """The otpauth:// URI authenticator apps read from a QR code."""
    return pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(
        name=account, issuer_name="Cordon"
    )


def totp_match(secret: str, code: str, now: float, after_step: int | None) -> int | None:
    """The matching time step (±1 step of drift), or None; steps at or before `after_step`
    were already used and are refused, so a code cannot be replayed."""
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = int(now // TOTP_INTERVAL)
    for step in (current, current - 1, current + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * TOTP_INTERVAL), code):
            return step
    return None


def sign_cursor(secret_key: str, payload: dict[str, Any]) -> str:
    """An opaque, tamper-evident pagination cursor."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(_derive(secret_key, b"cursor"), body, hashlib.sha256).digest()[:16]
    return b64url(mac + body)


def open_cursor(secret_key: str, cursor: str) -> dict[str, Any] | None:
    """The cursor's payload, or None when it was forged, truncated or garbled."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        return None
    mac, body = raw[:16], raw[16:]
    expected = hmac.new(_derive(secret_key, b"cursor"), body, hashlib.sha256).digest()[:16]
    if len(mac) != 16 or not hmac.compare_digest(mac, expected):
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None
