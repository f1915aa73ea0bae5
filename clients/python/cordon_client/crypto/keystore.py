"""Passphrase-encrypted client keystore and the prekey schedule (PROTOCOL.md §10)."""

from __future__ import annotations

import json
import os
import secrets
import stat
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from cordon_client.crypto._encoding import (
    b64d,
    b64e,
    decode,
    encode,
    fields_to_ints,
    signing_input,
)
from cordon_client.crypto.keys import DAY_MS, PREKEY_GRACE_MS, SignedPrekey, make_prekey
from cordon_client.exceptions import KeystoreError, MalformedError, WrongPassphraseError

KEYSTORE_VERSION = 1
SCRYPT_N = 1 << 15
SCRYPT_MIN_N = 1 << 14
SCRYPT_R = 8
SCRYPT_P = 1
ROTATE_PREKEY_AT_MS = 6 * DAY_MS


@dataclass(slots=True)
class PrekeySecret:
    """A published prekey and its private half, kept until 48 h after its replacement."""

    prekey: SignedPrekey
    private: X25519PrivateKey = field(repr=False)


@dataclass(slots=True, repr=False)
class KeystoreData:
    """A device's private state; `repr` never shows key material."""

    device_id: uuid.UUID
    signing_key: Ed25519PrivateKey
    member_key: Ed25519PrivateKey | None = None
    prekeys: dict[int, PrekeySecret] = field(default_factory=dict)
    secrets: dict[str, bytes] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"KeystoreData(device_id={self.device_id}, prekeys={sorted(self.prekeys)}, ...)"

    def prekey_privates(self) -> dict[int, X25519PrivateKey]:
        """Private halves by id, for opening wraps."""
        return {pid: s.private for pid, s in self.prekeys.items()}

    def current_prekey(self, now_ms: int) -> SignedPrekey | None:
        """The newest unexpired prekey, which the key directory should serve."""
        valid = [s.prekey for s in self.prekeys.values() if s.prekey.expires_ts > now_ms]
        return max(valid, key=lambda p: p.created_ts, default=None)

    def rotate_prekeys(self, now_ms: int) -> SignedPrekey | None:
        """Make a new prekey once the newest is six days old; return it for upload."""
        newest = max(
            (s.prekey for s in self.prekeys.values()), key=lambda p: p.created_ts, default=None
        )
        if newest is not None and now_ms - newest.created_ts < ROTATE_PREKEY_AT_MS:
            return None
        prekey_id = max(self.prekeys, default=0) + 1
        private, prekey = make_prekey(self.signing_key, self.device_id, prekey_id, now_ms)
        self.prekeys[prekey_id] = PrekeySecret(prekey, private)
        return prekey

    def delete_expired_prekeys(self, now_ms: int) -> list[int]:
        """Forget a private half 48 h after a newer prekey was made (PROTOCOL §10), bounding
        what a later compromise reveals; run only after a sync has caught up."""
        made = sorted(s.prekey.created_ts for s in self.prekeys.values())
        gone = [
            pid
            for pid, s in self.prekeys.items()
            if any(s.prekey.created_ts < t <= now_ms - PREKEY_GRACE_MS for t in made)
        ]
        for pid in gone:
            del self.prekeys[pid]
        return gone


def _serialise(data: KeystoreData) -> bytes:
    prekeys = [
        encode(
            p.prekey.device_id,
            p.prekey.prekey_id,
            p.prekey.public_key,
            p.prekey.created_ts,
            p.prekey.expires_ts,
            p.prekey.signature,
            p.private.private_bytes_raw(),
        )
        for p in data.prekeys.values()
    ]
    member = data.member_key.private_bytes_raw() if data.member_key else b""
    items = [encode(name, value) for name, value in sorted(data.secrets.items())]
    return encode(
        data.device_id,
        data.signing_key.private_bytes_raw(),
        member,
        encode(*prekeys),
        encode(*items),
    )


def _deserialise(raw: bytes) -> KeystoreData:
    f = decode(raw)
    if len(f) != 5 or len(f[0]) != 16 or len(f[1]) != 32 or len(f[2]) not in (0, 32):
        raise MalformedError("keystore contents are malformed")
    data = KeystoreData(
        uuid.UUID(bytes=f[0]),
        Ed25519PrivateKey.from_private_bytes(f[1]),
        Ed25519PrivateKey.from_private_bytes(f[2]) if f[2] else None,
    )
    for item in decode(f[3]):
        p = decode(item)
        if len(p) != 7:
            raise MalformedError("keystore prekey record is malformed")
        pid, created, expires = fields_to_ints([p[1], p[3], p[4]])
        prekey = SignedPrekey(uuid.UUID(bytes=p[0]), pid, p[2], created, expires, p[5])
        data.prekeys[pid] = PrekeySecret(prekey, X25519PrivateKey.from_private_bytes(p[6]))
    for item in decode(f[4]):
        name, value = decode(item)
        data.secrets[name.decode("utf-8")] = value
    return data


def _kdf(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _aad(n: int, r: int, p: int, salt: bytes) -> bytes:
    return signing_input("keystore", KEYSTORE_VERSION, n, r, p, salt)


@dataclass(frozen=True, slots=True, repr=False)
class KeystoreKey:
    """The AES key scrypt derived from the passphrase for one salt, with its parameters.

    A process keeps it after unlocking and encrypts every later save under it with a fresh
    nonce, so only unlocking costs a scrypt run; `repr` never shows the key."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes

    def __repr__(self) -> str:
        return f"KeystoreKey(n={self.n}, r={self.r}, p={self.p}, ...)"

    @classmethod
    def derive(cls, passphrase: str, *, n: int = SCRYPT_N) -> KeystoreKey:
        """A key under a fresh random salt (a new keystore, or re-encrypting one)."""
        if n < SCRYPT_MIN_N or n & (n - 1):
            raise ValueError("scrypt n must be a power of two of at least 2**14")
        salt = secrets.token_bytes(16)
        return cls(n, SCRYPT_R, SCRYPT_P, salt, _kdf(passphrase, salt, n, SCRYPT_R, SCRYPT_P))


def serialise_keystore(data: KeystoreData) -> bytes:
    """The plaintext a save would encrypt, to tell whether anything changed since the last."""
    return _serialise(data)


def save_keystore(path: Path, data: KeystoreData, passphrase: str, *, n: int = SCRYPT_N) -> None:
    """Encrypt under scrypt(passphrase) + AES-256-GCM and replace the file atomically, mode 0600."""
    write_keystore(path, data, KeystoreKey.derive(passphrase, n=n))


def write_keystore(path: Path, data: KeystoreData, key: KeystoreKey) -> None:
    """Encrypt under an already derived key with a fresh nonce; replace the file atomically."""
    nonce = secrets.token_bytes(12)
    ct = AESGCM(key.key).encrypt(nonce, _serialise(data), _aad(key.n, key.r, key.p, key.salt))
    doc = {
        "v": KEYSTORE_VERSION,
        "kdf": "scrypt",
        "n": key.n,
        "r": key.r,
        "p": key.p,
        "salt": b64e(key.salt),
        "nonce": b64e(nonce),
        "ciphertext": b64e(ct),
    }
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, json.dumps(doc).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise KeystoreError(f"could not write keystore: {exc.strerror}") from None


def _read(path: Path) -> tuple[int, int, int, bytes, bytes, bytes]:
    """The file's KDF parameters, salt, nonce and ciphertext; refuses files others can read."""
    try:
        st = os.stat(path)
        raw = path.read_bytes()
    except OSError as exc:
        raise KeystoreError(f"could not read keystore: {exc.strerror}") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise KeystoreError("keystore file is accessible to other users; expected mode 0600")
    try:
        doc = json.loads(raw)
        if doc["v"] != KEYSTORE_VERSION or doc["kdf"] != "scrypt":
            raise KeystoreError("unsupported keystore version or KDF")
        n, r, p = int(doc["n"]), int(doc["r"]), int(doc["p"])
        salt = b64d(doc["salt"], length=16, what="salt")
        nonce = b64d(doc["nonce"], length=12, what="nonce")
        ct = b64d(doc["ciphertext"], what="ciphertext")
    except (ValueError, KeyError, TypeError, MalformedError):
        raise KeystoreError("keystore file is corrupt") from None
    if not SCRYPT_MIN_N <= n <= 1 << 20 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise KeystoreError("keystore KDF parameters are out of range")
    return n, r, p, salt, nonce, ct


def _open(key: KeystoreKey, nonce: bytes, ct: bytes) -> KeystoreData:
    try:
        plain = AESGCM(key.key).decrypt(nonce, ct, _aad(key.n, key.r, key.p, key.salt))
    except InvalidTag:
        raise WrongPassphraseError("wrong passphrase (or the keystore was altered)") from None
    try:
        return _deserialise(plain)
    except (MalformedError, ValueError):
        raise KeystoreError("keystore contents are corrupt") from None


def unlock_keystore(path: Path, passphrase: str) -> tuple[KeystoreData, KeystoreKey]:
    """Decrypt the keystore with the passphrase (one scrypt run); also return the key."""
    n, r, p, salt, nonce, ct = _read(path)
    key = KeystoreKey(n, r, p, salt, _kdf(passphrase, salt, n, r, p))
    return _open(key, nonce, ct), key


def open_keystore(path: Path, key: KeystoreKey) -> KeystoreData:
    """Decrypt the keystore with a key derived earlier; a key for another salt or parameters
    (the keystore was re-encrypted since) is refused like a wrong passphrase."""
    n, r, p, salt, nonce, ct = _read(path)
    if (n, r, p) != (key.n, key.r, key.p) or not secrets.compare_digest(salt, key.salt):
        raise WrongPassphraseError("the unlock key belongs to another version of the keystore")
    return _open(key, nonce, ct)


def load_keystore(path: Path, passphrase: str) -> KeystoreData:
    """Decrypt the keystore; refuse files others can read and report a wrong passphrase clearly."""
    return unlock_keystore(path, passphrase)[0]
