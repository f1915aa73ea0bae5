"""The client's local state: a non-secret profile and the passphrase-encrypted keystore.

Everything secret (device and member private keys, prekeys, the bearer token, coordinator
root keys, per-group session state) lives in the keystore, which is encrypted at rest
(scrypt + AES-256-GCM, mode 0600). The profile holds only what is safe to read in clear:
server URL, username and ids. A command line keeps the unlocked key for a few minutes in an
unlock file (`account.unlock`), so that scrypt does not run on every command.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cordon_client.account.unlock import UnlockFile, unlock_path
from cordon_client.crypto import KeystoreData
from cordon_client.crypto.keystore import (
    KeystoreKey,
    open_keystore,
    serialise_keystore,
    unlock_keystore,
    write_keystore,
)
from cordon_client.exceptions import CordonClientError, KeystoreError

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
    """Loads and saves the profile and the keystore of one device.

    Only unlocking runs scrypt: the key it derives stays with this object, and every save
    encrypts under it with a fresh nonce (and only when the keystore changed). With an
    `UnlockFile`, a key kept from an earlier unlock is used instead of the passphrase, which
    is then never asked for; an unlock by passphrase re-encrypts the keystore under a fresh
    salt and keeps the new key there."""

    def __init__(
        self,
        directory: Path,
        passphrase: str | Callable[[], str],
        *,
        scrypt_n: int | None = None,
        unlock: UnlockFile | None = None,
    ) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n
        self.unlock = unlock
        self._key: KeystoreKey | None = None
        self._written: bytes | None = None  # the plaintext the file on disk holds
        self.profile: Profile | None = None
        self.keystore: KeystoreData | None = None
        if (directory / PROFILE).exists():
            self.profile = Profile(**json.loads((directory / PROFILE).read_text()))
        if (directory / KEYSTORE).exists():
            self.keystore = self._open(directory / KEYSTORE)

    def passphrase(self) -> str:
        """The passphrase, asked for (by the callable given) only when needed."""
        if callable(self._passphrase):
            self._passphrase = self._passphrase()
        return self._passphrase

    def _open(self, path: Path) -> KeystoreData:
        kept = self.unlock.key() if self.unlock is not None else None
        if kept is not None:
            try:
                data = open_keystore(path, kept)
            except KeystoreError:  # re-encrypted since (passphrase changed) or altered
                assert self.unlock is not None
                self.unlock.forget()
            else:
                self._key, self._written = kept, serialise_keystore(data)
                return data
        data, key = unlock_keystore(path, self.passphrase())
        self._key, self._written = key, serialise_keystore(data)
        if self.unlock is not None and self.unlock.minutes:
            self._key = KeystoreKey.derive(self.passphrase(), n=key.n)
            self._written = None  # re-encrypt under the fresh salt before keeping its key
            self._write(data)
            self.unlock.remember(self._key)
        return data

    def _write(self, data: KeystoreData) -> None:
        if self._key is None:
            self._key = KeystoreKey.derive(self.passphrase(), **self._n())
            if self.unlock is not None:
                self.unlock.remember(self._key)
        plain = serialise_keystore(data)
        if plain == self._written:
            return
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_keystore(self.directory / KEYSTORE, data, self._key)
        self._written = plain

    def _n(self) -> dict[str, int]:
        return {"n": self._scrypt_n} if self._scrypt_n else {}

    def lock(self) -> None:
        """Remove the unlock file of this state directory, kept by this object or by another
        process (logout, password change, `cordon lock`)."""
        (self.unlock or UnlockFile(unlock_path(self.directory), 0)).forget()

    def require(self) -> tuple[Profile, KeystoreData]:
        """The profile and keystore, or a clear error telling the user to log in."""
        if self.profile is None or self.keystore is None:
            raise NotLoggedIn(f"no device enrolled in {self.directory}; run `cordon login`")
        return self.profile, self.keystore

    def save(self) -> None:
        """Write what changed atomically, readable by the owner only."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.keystore is not None:
            self._write(self.keystore)
        if self.profile is not None:
            text = json.dumps(asdict(self.profile))
            path = self.directory / PROFILE
            if path.exists() and path.read_text() == text:
                return
            tmp = self.directory / f".{PROFILE}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            os.replace(tmp, path)

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
