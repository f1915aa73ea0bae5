"""Prekeys, fingerprints and QR payloads."""

from __future__ import annotations

import re
import uuid

import pytest
from cordon_client.crypto import (
    fingerprint,
    make_prekey,
    new_signing_key,
    parse_qr_payload,
    public_bytes,
    qr_payload,
    root_matches_qr,
    verify_prekey,
)
from cordon_client.crypto.keys import PREKEY_LIFETIME_MS, SignedPrekey
from cordon_client.exceptions import KeyUnavailableError, MalformedError, SignatureError

from .helpers import T0


def test_fingerprint_is_twelve_groups_of_five_digits() -> None:
    """The human code has a fixed, comparable shape and depends on group and key."""
    gid, key = uuid.uuid4(), public_bytes(new_signing_key())
    fp = fingerprint(gid, key)
    assert re.fullmatch(r"(\d{5} ){11}\d{5}", fp)
    assert fp == fingerprint(gid, key)
    assert fp != fingerprint(uuid.uuid4(), key)


def test_qr_payload_round_trip_and_mismatch() -> None:
    """A scanned QR payload matches only the exact pinned root."""
    gid, key = uuid.uuid4(), public_bytes(new_signing_key())
    payload = qr_payload(gid, key)
    assert parse_qr_payload(payload) == (gid, key)
    assert root_matches_qr(payload, gid, key)
    assert not root_matches_qr(payload, gid, public_bytes(new_signing_key()))
    assert not root_matches_qr("garbage", gid, key)
    with pytest.raises(MalformedError):
        parse_qr_payload("cordon-root:1:nope")


def test_prekey_signed_by_device_and_checked() -> None:
    """A prekey verifies under its device key, not another, and not after expiry."""
    dk, did = new_signing_key(), uuid.uuid4()
    _, pk = make_prekey(dk, did, 7, T0)
    verify_prekey(pk, public_bytes(dk), T0 + 1)
    with pytest.raises(SignatureError):
        verify_prekey(pk, public_bytes(new_signing_key()), T0 + 1)
    with pytest.raises(KeyUnavailableError):
        verify_prekey(pk, public_bytes(dk), T0 + PREKEY_LIFETIME_MS)
    assert SignedPrekey.from_json(pk.to_json()) == pk


def test_prekey_json_rejects_extra_fields() -> None:
    """Unknown fields in a served prekey are refused."""
    _, pk = make_prekey(new_signing_key(), uuid.uuid4(), 1, T0)
    with pytest.raises(MalformedError):
        SignedPrekey.from_json({**pk.to_json(), "extra": 1})
