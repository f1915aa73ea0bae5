"""The unlock file and the keystore key a process keeps: scrypt runs once per unlock, not once
per command and per save, and the kept key is refused whenever it could not be trusted."""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from pathlib import Path

import pytest
from cordon_client.account.state import KEYSTORE, LocalState, Profile
from cordon_client.account.unlock import UNLOCK_FILE, UnlockFile, _mac, unlock_path
from cordon_client.crypto import KeystoreData, new_signing_key, save_keystore
from cordon_client.crypto._encoding import b64d, b64e
from cordon_client.crypto.keystore import KeystoreKey
from cordon_client.exceptions import WrongPassphraseError

N = 1 << 14
PASSPHRASE = "correct horse"


def _never() -> str:
    raise AssertionError("the passphrase was asked for")


def _enrolled(home: Path, minutes: int = 15) -> LocalState:
    """A state directory with a keystore, unlocked once by passphrase."""
    state = LocalState(home, PASSPHRASE, scrypt_n=N, unlock=UnlockFile(unlock_path(home), minutes))
    state.keystore = KeystoreData(uuid.uuid4(), new_signing_key(), new_signing_key())
    state.profile = Profile("http://127.0.0.1:1", "jane", str(uuid.uuid4()), str(uuid.uuid4()))
    state.save()
    return state


def _open(home: Path, passphrase: object = _never, minutes: int = 15) -> LocalState:
    return LocalState(home, passphrase, unlock=UnlockFile(unlock_path(home), minutes))  # type: ignore[arg-type]


def _salt(home: Path) -> str:
    return str(json.loads((home / KEYSTORE).read_text())["salt"])


@pytest.fixture(autouse=True)
def _no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


def test_kept_key_opens_the_keystore_without_the_passphrase(tmp_path: Path) -> None:
    """After one unlock the next process needs no passphrase; the file is 0600 and holds no
    passphrase; a save reuses the key (same salt) and an unchanged keystore is not rewritten."""
    first = _enrolled(tmp_path)
    path = tmp_path / UNLOCK_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert PASSPHRASE not in path.read_text()
    second = _open(tmp_path)
    assert second.keystore is not None and first.keystore is not None
    assert second.keystore.device_id == first.keystore.device_id
    before = (tmp_path / KEYSTORE).read_bytes()
    second.save()
    assert (tmp_path / KEYSTORE).read_bytes() == before  # nothing changed: not rewritten
    second.set_secret("token", b"new")
    second.save()
    assert (tmp_path / KEYSTORE).read_bytes() != before
    assert json.loads((tmp_path / KEYSTORE).read_text())["salt"] == json.loads(before)["salt"]
    assert _open(tmp_path).secret("token") == b"new"


def test_unlock_by_passphrase_re_encrypts_under_a_fresh_salt(tmp_path: Path) -> None:
    """A key copied out of an earlier unlock file opens no keystore written after the next
    unlock by passphrase."""
    _enrolled(tmp_path)
    old = UnlockFile(tmp_path / UNLOCK_FILE, 15).key()
    assert old is not None
    UnlockFile(tmp_path / UNLOCK_FILE, 15).forget()
    salt = _salt(tmp_path)
    _open(tmp_path, PASSPHRASE)
    assert _salt(tmp_path) != salt
    new = UnlockFile(tmp_path / UNLOCK_FILE, 15).key()
    assert new is not None and new.salt != old.salt
    (tmp_path / UNLOCK_FILE).unlink()
    UnlockFile(tmp_path / UNLOCK_FILE, 15).remember(old)
    assert _open(tmp_path, PASSPHRASE).keystore is not None  # stale key refused: passphrase used
    assert UnlockFile(tmp_path / UNLOCK_FILE, 15).key() != old


def test_passphrase_change_invalidates_the_kept_key(tmp_path: Path) -> None:
    """A keystore re-encrypted under another passphrase is not opened by the old key, which is
    removed; the old passphrase is then refused."""
    state = _enrolled(tmp_path)
    assert state.keystore is not None
    save_keystore(tmp_path / KEYSTORE, state.keystore, "a new passphrase", n=N)
    with pytest.raises(WrongPassphraseError):
        _open(tmp_path, PASSPHRASE)
    assert not (tmp_path / UNLOCK_FILE).exists()
    assert _open(tmp_path, "a new passphrase").keystore is not None


def _rewrite(path: Path, **fields: object) -> None:
    doc = json.loads(path.read_text()) | fields
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: _rewrite(p, expires=int(time.time()) + 3600 * 24),
        lambda p: _rewrite(p, created=int(time.time()) + 600),
        lambda p: _rewrite(p, key=b64e(os.urandom(32))),
        lambda p: _rewrite(p, v=2),
        lambda p: p.write_text("{not json"),
    ],
    ids=["expiry-extended", "created-moved", "key-replaced", "version", "garbage"],
)
def test_tampered_unlock_file_is_refused_and_removed(tmp_path: Path, tamper) -> None:  # type: ignore[no-untyped-def]
    """Any edit is refused: the passphrase is asked for again and the file goes."""
    _enrolled(tmp_path)
    path = tmp_path / UNLOCK_FILE
    tamper(path)
    os.chmod(path, 0o600)
    unlock = UnlockFile(path, 15)
    assert unlock.key() is None
    assert unlock.refused
    assert not path.exists()
    with pytest.raises(AssertionError, match="passphrase was asked"):
        _open(tmp_path)


def test_forged_times_with_a_valid_mac_are_still_bounded(tmp_path: Path) -> None:
    """Whoever knows the key can recompute the MAC, but cannot stretch the lifetime past the
    cap, nor past the minutes this user configured."""
    _enrolled(tmp_path)
    path = tmp_path / UNLOCK_FILE
    doc = json.loads(path.read_text())
    key = KeystoreKey(doc["n"], doc["r"], doc["p"], b64d(doc["salt"]), b64d(doc["key"]))
    now = int(time.time())
    for created, expires in ((now, now + 13 * 3600), (now - 3600, now + 60)):
        mac = b64e(_mac(key, created, expires))
        path.write_text(json.dumps(doc | {"created": created, "expires": expires, "mac": mac}))
        os.chmod(path, 0o600)
        assert UnlockFile(path, 15).key() is None
        assert not path.exists()


def test_expired_unlock_file_is_removed_quietly(tmp_path: Path) -> None:
    _enrolled(tmp_path)
    path = tmp_path / UNLOCK_FILE
    doc = json.loads(path.read_text())
    key = KeystoreKey(doc["n"], doc["r"], doc["p"], b64d(doc["salt"]), b64d(doc["key"]))
    created, expires = int(time.time()) - 1000, int(time.time()) - 100
    mac = b64e(_mac(key, created, expires))
    path.write_text(json.dumps(doc | {"created": created, "expires": expires, "mac": mac}))
    unlock = UnlockFile(path, 15)
    assert unlock.key() is None and unlock.refused is None
    assert not path.exists()


def test_wrong_permissions_or_a_symlink_are_refused(tmp_path: Path) -> None:
    _enrolled(tmp_path)
    path = tmp_path / UNLOCK_FILE
    os.chmod(path, 0o640)
    unlock = UnlockFile(path, 15)
    assert unlock.key() is None
    assert unlock.refused is not None and "0640" in unlock.refused
    assert not path.exists()
    _open(tmp_path, PASSPHRASE)  # a new, sound file
    target = tmp_path / "elsewhere.json"
    path.rename(target)
    path.symlink_to(target)
    unlock = UnlockFile(path, 15)
    assert unlock.key() is None and unlock.refused is not None


def test_zero_minutes_keeps_no_key_and_removes_one(tmp_path: Path) -> None:
    _enrolled(tmp_path)
    assert (tmp_path / UNLOCK_FILE).exists()
    salt = _salt(tmp_path)
    assert _open(tmp_path, PASSPHRASE, minutes=0).keystore is not None
    assert not (tmp_path / UNLOCK_FILE).exists()
    assert _salt(tmp_path) == salt  # no re-encryption when nothing is kept


def test_runtime_dir_is_preferred_when_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In $XDG_RUNTIME_DIR (a per-user tmpfs) when it is this user's and private."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert unlock_path(tmp_path / "home").parent == runtime
    os.chmod(runtime, 0o755)
    assert unlock_path(tmp_path / "home") == tmp_path / "home" / UNLOCK_FILE
