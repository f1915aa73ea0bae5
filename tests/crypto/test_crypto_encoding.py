"""Labels, canonical encoding and helper KDFs."""

from __future__ import annotations

import pytest
from cordon_client.crypto._encoding import b64d, b64e, decode, encode, hkdf_sha256, label
from cordon_client.exceptions import MalformedError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st


def test_label_format() -> None:
    """Every label is `CXM/2/<purpose>` followed by a NUL byte."""
    assert label("envelope") == b"CXM/2/envelope\x00"


def test_encoding_is_injective_on_field_boundaries() -> None:
    """Moving bytes between fields changes the encoding (length prefixes)."""
    assert encode(b"ab", b"c") != encode(b"a", b"bc")
    assert encode(1) == b"\x00\x00\x00\x08" + (1).to_bytes(8, "big")


@settings(max_examples=50)
@given(st.lists(st.binary(max_size=40), max_size=6))
def test_encode_decode_round_trip(fields: list[bytes]) -> None:
    """decode() inverts encode() for any list of byte fields."""
    assert decode(encode(*fields)) == fields


@settings(max_examples=50)
@given(
    st.binary(min_size=1, max_size=64),
    st.binary(max_size=32),
    st.binary(max_size=40),
    st.integers(min_value=1, max_value=200),
)
def test_hkdf_matches_cryptography(ikm: bytes, salt: bytes, info: bytes, length: int) -> None:
    """The fast stdlib HKDF equals the `cryptography` HKDF (RFC 5869)."""
    ref = HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)
    assert hkdf_sha256(ikm, salt=salt, info=info, length=length) == ref


def test_b64_is_strict() -> None:
    """Padded, non-canonical or wrong-length base64url is rejected."""
    assert b64d(b64e(b"\x01\x02"), length=2) == b"\x01\x02"
    for bad in ("AQI=", "AQ+", "AQJ"):
        with pytest.raises(MalformedError):
            b64d(bad)
    with pytest.raises(MalformedError):
        b64d(b64e(b"abc"), length=2)


def test_decode_rejects_truncation() -> None:
    """A length prefix pointing past the end is MalformedError, not a crash."""
    with pytest.raises(MalformedError):
        decode(encode(b"hello")[:-1])
