"""The client's local state: a non-secret profile and the passphrase-encrypted keystore.

Everything secret (device and member private keys, prekeys, the bearer token, coordinator
root keys, per-group session state) lives in the keystore, which is encrypted at rest
(scrypt + AES-256-GCM, mode 0600). The profile holds only what is safe to read in clear:
server URL, username and ids.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client.crypto import KeystoreData, load_keystore, save_keystore
from cordon_client.exceptions import CordonClientError

PROFILE = "profile.json"
KEYSTORE = "keystore.json"


class NotLoggedIn(CordonClientError):
    """No device is enrolled in this state directory yet: log in first."""


@dataclass
class Profile:
    """Who this state directory belongs to, in clear."""

    server: str
    username: str
    user_id: str
    device_id: str


class LocalState:
    """Loads and saves the profile and the keystore of one device."""

    def __init__(self, directory: Path, passphrase: str, *, scrypt_n: int | None = None) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n
        self.profile: Profile | None = None
        self.keystore: KeystoreData | None = None
        if (directory / PROFILE).exists():
            self.profile = Profile(**json.loads((directory / PROFILE).read_text()))
        if (directory / KEYSTORE).exists():
            self.keystore = load_keystore(directory / KEYSTORE, passphrase)

    def require(self) -> tuple[Profile, KeystoreData]:
        """The profile and keystore, or a clear error telling the user to log in."""
        if self.profile is None or self.keystore is None:
            raise NotLoggedIn(f"no device enrolled in {self.directory}; run `cordon login`")
        return self.profile, self.keystore

    def save(self) -> None:
        """Write both files atomically, readable by the owner only."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.keystore is not None:
            kwargs = {"n": self._scrypt_n} if self._scrypt_n else {}
            save_keystore(self.directory / KEYSTORE, self.keystore, self._passphrase, **kwargs)
        if self.profile is not None:
            tmp = self.directory / f".{PROFILE}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(asdict(self.profile), fh)
            os.replace(tmp, self.directory / PROFILE)

    # Named secrets inside the keystore -------------------------------------------------

    def secret(self, name: str) -> bytes | None:
        _, keystore = self.require()
        return keystore.secrets.get(name)

    def set_secret(self, name: str, value: bytes | None) -> None:
        _, keystore = self.require()
        if value is None:
            keystore.secrets.pop(name, None)
        else:
            keystore.secrets[name] = value

    @property
    def token(self) -> str | None:
        raw = self.secret("token") if self.keystore else None
        return raw.decode() if raw else None

    def pinned_root(self, group_id: uuid.UUID) -> bytes | None:
        """The group's trust root this device pinned when it joined."""
        return self.secret(f"root-pin:{group_id}")

    def root_key(self, group_id: uuid.UUID) -> Ed25519PrivateKey | None:
        """The coordinator root key, on the device that opened the group's log."""
        raw = self.secret(f"root-key:{group_id}")
        return Ed25519PrivateKey.from_private_bytes(raw) if raw else None
