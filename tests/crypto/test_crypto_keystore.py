"""The passphrase-encrypted keystore and the prekey schedule."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest
from cordon_client.crypto import KeystoreData, load_keystore, new_signing_key, save_keystore
from cordon_client.crypto.keys import DAY_MS
from cordon_client.exceptions import KeystoreError, WrongPassphraseError

from .helpers import T0

N = 1 << 14


def _data() -> KeystoreData:
    data = KeystoreData(uuid.uuid4(), new_signing_key(), new_signing_key())
    data.rotate_prekeys(T0)
    data.secrets["chain"] = b"\x01" * 40
    return data


def test_round_trip_and_mode(tmp_path: Path) -> None:
    """Saved keys load back identically and the file is mode 0600."""
    path = tmp_path / "device.keys"
    data = _data()
    save_keystore(path, data, "correct horse", n=N)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = load_keystore(path, "correct horse")
    assert loaded.signing_key.private_bytes_raw() == data.signing_key.private_bytes_raw()
    assert loaded.secrets == data.secrets
    assert loaded.prekeys[1].prekey == data.prekeys[1].prekey
    assert [p.name for p in tmp_path.iterdir()] == ["device.keys"]


def test_wrong_passphrase(tmp_path: Path) -> None:
    """A wrong passphrase is reported as such."""
    path = tmp_path / "k"
    save_keystore(path, _data(), "right", n=N)
    with pytest.raises(WrongPassphraseError):
        load_keystore(path, "wrong")


def test_no_secrets_in_repr_or_file(tmp_path: Path) -> None:
    """Neither repr nor the file contains raw key bytes."""
    data = _data()
    raw = data.signing_key.private_bytes_raw()
    assert raw.hex() not in repr(data) and str(raw) not in repr(data)
    path = tmp_path / "k"
    save_keystore(path, data, "pw", n=N)
    assert raw not in path.read_bytes()


def test_refuses_world_readable_and_corrupt(tmp_path: Path) -> None:
    """Group/world-readable or corrupt files are refused with KeystoreError."""
    path = tmp_path / "k"
    save_keystore(path, _data(), "pw", n=N)
    os.chmod(path, 0o644)
    with pytest.raises(KeystoreError, match="0600"):
        load_keystore(path, "pw")
    os.chmod(path, 0o600)
    path.write_text("{not json")
    with pytest.raises(KeystoreError):
        load_keystore(path, "pw")


def test_prekey_schedule() -> None:
    """A new prekey after six days; the old private half deleted 48 h after that, not before."""
    data = _data()
    assert data.rotate_prekeys(T0 + DAY_MS) is None
    new = data.rotate_prekeys(T0 + 6 * DAY_MS)
    assert new is not None and new.prekey_id == 2
    assert data.current_prekey(T0 + 7 * DAY_MS) == new
    assert data.delete_expired_prekeys(T0 + 8 * DAY_MS - 1) == []
    assert data.delete_expired_prekeys(T0 + 8 * DAY_MS) == [1]
    assert set(data.prekeys) == {2}
