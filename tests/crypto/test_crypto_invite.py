"""Invitations, join MACs, member safety numbers and device link codes (PROTOCOL §3.4–3.7)."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import new_signing_key, public_bytes
from cordon_client.crypto._encoding import b64e
from cordon_client.crypto.invite import (
    Invitation,
    check_join_mac,
    check_link_code,
    check_member_fingerprint,
    join_mac,
    link_code,
    member_qr_payload,
    member_safety_number,
)
from cordon_client.exceptions import BindingError, MalformedError

GROUP = uuid.uuid4()
ROOT = public_bytes(new_signing_key())
MEMBER = uuid.uuid4()
KEY = public_bytes(new_signing_key())


def test_invitation_text_round_trip_and_shape() -> None:
    """One short string (64 base64url characters after the prefix) carries the whole step."""
    inv = Invitation.create(GROUP, ROOT)
    text = inv.to_text()
    assert text.startswith("cordon-invite:2:") and len(text) == len("cordon-invite:2:") + 64
    assert Invitation.from_text(text) == inv
    assert Invitation.from_text(" ".join([text[:30], text[30:]])) == inv
    assert Invitation.create(GROUP, ROOT) != inv, "each invitation has its own secret"


def test_invitation_id_reveals_nothing_the_server_could_use() -> None:
    """The id the server indexes by differs from the secret and from the MAC key."""
    inv = Invitation.create(GROUP, ROOT)
    assert len(inv.invitation_id) == 16
    assert inv.invitation_id != inv.secret and inv.invitation_id not in inv.mac_key()


def test_member_learns_the_root_from_the_invitation() -> None:
    """Another root, or another group, is refused by name."""
    inv = Invitation.create(GROUP, ROOT)
    inv.check_root(GROUP, ROOT)
    other = public_bytes(new_signing_key())
    with pytest.raises(BindingError, match=f"root key {b64e(other)} is not the root"):
        inv.check_root(GROUP, other)
    with pytest.raises(BindingError, match="invitation is for group"):
        inv.check_root(uuid.uuid4(), ROOT)


def test_join_mac_binds_member_key_and_id() -> None:
    """A substituted key or member id fails the MAC; the right one passes."""
    inv = Invitation.create(GROUP, ROOT)
    mac = join_mac(inv, MEMBER, KEY)
    check_join_mac(inv, MEMBER, KEY, mac)
    swapped = public_bytes(new_signing_key())
    with pytest.raises(BindingError, match=f"does not cover member key {b64e(swapped)}"):
        check_join_mac(inv, MEMBER, swapped, mac)
    with pytest.raises(BindingError):
        check_join_mac(inv, uuid.uuid4(), KEY, mac)
    with pytest.raises(BindingError):
        check_join_mac(Invitation.create(GROUP, ROOT), MEMBER, KEY, mac)


def test_malformed_invitation_text() -> None:
    """Wrong prefix, wrong length or padding is a MalformedError naming the invitation."""
    inv = Invitation.create(GROUP, ROOT)
    for bad in ("cordon-root:1:x", inv.to_text()[:-2], inv.to_text() + "=="):
        with pytest.raises(MalformedError, match="invitation"):
            Invitation.from_text(bad)


def test_member_safety_number_and_qr_fallback() -> None:
    """Digits or the QR payload match only the exact member key."""
    number = member_safety_number(MEMBER, KEY)
    assert len(number.split()) == 12 and all(len(g) == 5 for g in number.split())
    check_member_fingerprint(MEMBER, KEY, number)
    check_member_fingerprint(MEMBER, KEY, member_qr_payload(MEMBER, KEY))
    swapped = public_bytes(new_signing_key())
    with pytest.raises(BindingError, match="does not match the fingerprint"):
        check_member_fingerprint(MEMBER, swapped, number)
    with pytest.raises(BindingError):
        check_member_fingerprint(MEMBER, swapped, member_qr_payload(MEMBER, KEY))


def test_link_code_commits_to_the_device_key() -> None:
    """The existing device certifies only the key the new device's code names."""
    device, dev_key = uuid.uuid4(), public_bytes(new_signing_key())
    code = link_code(MEMBER, device, dev_key)
    assert code.startswith("cordon-link:2:") and len(code) == len("cordon-link:2:") + 43
    check_link_code(code, MEMBER, device, dev_key)
    swapped = public_bytes(new_signing_key())
    with pytest.raises(BindingError, match=f"served signing key {b64e(swapped)} is not the key"):
        check_link_code(code, MEMBER, device, swapped)
    with pytest.raises(BindingError, match="link code is for device"):
        check_link_code(code, MEMBER, uuid.uuid4(), dev_key)
    with pytest.raises(BindingError):
        check_link_code(code, uuid.uuid4(), device, dev_key)
