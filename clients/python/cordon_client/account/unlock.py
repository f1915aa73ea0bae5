"""The unlock file: the keystore key kept for a few minutes after the passphrase was typed, so
that each `cordon` command does not run scrypt again (issue 12, "Speed"), as `sudo` keeps a
timestamp and `ssh-agent` keeps a key.

What it holds is what opens the keystore as it is on disk, so it is kept like the keystore and
bounded in time:

* mode 0600, owned by this user, a regular file with one link, opened without following
  symlinks; anything else is refused (and the file removed when it is ours);
* in ``$XDG_RUNTIME_DIR`` (a per-user tmpfs, emptied at logout) when there is one, else in
  the state directory;
* valid for ``CORDON_UNLOCK_MINUTES`` (default 15, at most 720, 0 turns it off) from the
  moment the passphrase was typed, never extended; its times and the keystore salt it belongs
  to are authenticated by a MAC under a key derived from the one it holds, and the key must
  open the keystore, else it is refused;
* removed by `cordon lock`, `cordon logout`, a password change, and when it is found expired
  or belonging to another keystore. Each passphrase unlock re-encrypts the keystore under a
  fresh salt, so a key copied from an old unlock file opens no later version of the keystore.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
from pathlib import Path

from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.keystore import KeystoreKey
from cordon_client.exceptions import MalformedError

UNLOCK_FILE = "unlock.json"
UNLOCK_VERSION = 1
DEFAULT_MINUTES = 15
MAX_MINUTES = 12 * 60
_MAX_BYTES = 4096
_CLOCK_SKEW_S = 5


def _mac(key: KeystoreKey, created: int, expires: int) -> bytes:
    """HMAC-SHA-256 under a key of its own (never the AES key itself) over everything else."""
    mac_key = hmac.digest(key.key, b"cordon unlock file mac v1", "sha256")
    fields = json.dumps(
        [UNLOCK_VERSION, key.n, key.r, key.p, b64e(key.salt), created, expires]
    ).encode()
    return hmac.digest(mac_key, fields, "sha256")


def unlock_path(home: Path) -> Path:
    """Where the unlock file of the state directory `home` lives."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        try:
            st = os.stat(runtime)
        except OSError:
            st = None
        if (
            st is not None
            and stat.S_ISDIR(st.st_mode)
            and st.st_uid == os.getuid()
            and not stat.S_IMODE(st.st_mode) & 0o077
        ):
            tag = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:24]
            return Path(runtime) / f"cordon-unlock-{tag}.json"
    return home / UNLOCK_FILE


class UnlockFile:
    """The unlock file of one state directory; `minutes` 0 keeps none (and removes one)."""

    def __init__(self, path: Path, minutes: int) -> None:
        if not 0 <= minutes <= MAX_MINUTES:
            raise ValueError(f"unlock minutes must be between 0 and {MAX_MINUTES}")
        self.path = path
        self.minutes = minutes
        self.refused: str | None = None  # why an existing file was not used, for a warning

    def key(self) -> KeystoreKey | None:
        """The stored key if the file is sound and unexpired; otherwise None (and the file is
        removed, with `refused` saying why when it was not simply expired or absent)."""
        if self.minutes == 0:
            self.forget()
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.refused = f"cannot open it safely ({exc.strerror})"
            return None
        try:
            st = os.fstat(fd)
            if st.st_uid != os.getuid():
                self.refused = "it belongs to another user"
                return None  # not ours to remove
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
                return self._refuse("it is not a plain file")
            if stat.S_IMODE(st.st_mode) & 0o077:
                return self._refuse(f"its mode is {stat.S_IMODE(st.st_mode):04o}, expected 0600")
            raw = os.read(fd, _MAX_BYTES + 1)
        finally:
            os.close(fd)
        return self._parse(raw)

    def _parse(self, raw: bytes) -> KeystoreKey | None:
        try:
            doc = json.loads(raw)
            if doc["v"] != UNLOCK_VERSION or len(raw) > _MAX_BYTES:
                return self._refuse("it is malformed")
            key = KeystoreKey(
                n=int(doc["n"]),
                r=int(doc["r"]),
                p=int(doc["p"]),
                salt=b64d(doc["salt"], length=16, what="salt"),
                key=b64d(doc["key"], length=32, what="key"),
            )
            created, expires = int(doc["created"]), int(doc["expires"])
            mac = b64d(doc["mac"], length=32, what="mac")
        except (ValueError, KeyError, TypeError, MalformedError):
            return self._refuse("it is malformed")
        if not hmac.compare_digest(mac, _mac(key, created, expires)):
            return self._refuse("it was altered")
        now = int(time.time())
        if created > now + _CLOCK_SKEW_S or expires - created > MAX_MINUTES * 60:
            return self._refuse("its times are impossible")
        if now >= expires or now >= created + self.minutes * 60:
            self.forget()
            return None
        return key

    def _refuse(self, why: str) -> KeystoreKey | None:
        """Remove a file that cannot be trusted; None, the key it gives."""
        self.refused = why
        self.forget()
        return None

    def remember(self, key: KeystoreKey) -> None:
        """Keep `key` for `minutes` from now (nothing when turned off); a write that fails
        leaves no file, and the next command asks for the passphrase again."""
        if self.minutes == 0:
            return
        created = int(time.time())
        expires = created + self.minutes * 60
        doc = {
            "v": UNLOCK_VERSION,
            "n": key.n,
            "r": key.r,
            "p": key.p,
            "salt": b64e(key.salt),
            "created": created,
            "expires": expires,
            "key": b64e(key.key),
            "mac": b64e(_mac(key, created, expires)),
        }
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, json.dumps(doc).encode("ascii"))
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
            self.forget()

    def forget(self) -> None:
        """Remove the file (lock); nothing when there is none."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
