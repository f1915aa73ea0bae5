"""STREAM document encryption and signed manifests."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import (
    Manifest,
    StreamDecryptor,
    StreamEncryptor,
    create_manifest,
    decrypt_document,
    decrypt_metadata,
    encrypt_document,
    new_document_key,
    new_signing_key,
    public_bytes,
    verify_manifest,
)
from cordon_client.crypto.stream import MIN_SEGMENT, TAG
from cordon_client.exceptions import CryptoError, DecryptionError, SignatureError, TruncatedError
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import T0

SEG = MIN_SEGMENT
KEY = new_document_key()
SIGNER = new_signing_key()
MANIFEST = create_manifest(
    doc_key=KEY,
    signing_key=SIGNER,
    group_id=uuid.uuid4(),
    document_id=uuid.uuid4(),
    version=1,
    uploader_device_id=uuid.uuid4(),
    ts=T0,
    name="manifest-ship-42.pdf",
    media_type="application/pdf",
)
DATA = bytes(range(256)) * (SEG * 3 // 256) + b"tail"
CT = encrypt_document(KEY, MANIFEST, DATA)


def _segments(ct: bytes) -> list[bytes]:
    size = SEG + TAG
    return [ct[i : i + size] for i in range(0, len(ct), size)]


def test_round_trip_and_metadata() -> None:
    """Documents and their encrypted name/type come back intact."""
    verify_manifest(MANIFEST, public_bytes(SIGNER))
    assert decrypt_document(KEY, MANIFEST, CT) == DATA
    assert decrypt_metadata(MANIFEST, KEY) == ("manifest-ship-42.pdf", "application/pdf")
    assert Manifest.from_bytes(MANIFEST.to_bytes()) == MANIFEST


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG])
def test_boundaries(size: int) -> None:
    """Segment boundaries, including exact multiples and empty documents, round-trip."""
    data = b"\xab" * size
    assert decrypt_document(KEY, MANIFEST, encrypt_document(KEY, MANIFEST, data)) == data


def test_incremental_in_small_chunks() -> None:
    """Feeding arbitrary chunk sizes to the streaming objects gives the same result."""
    enc, dec = StreamEncryptor(KEY, MANIFEST), StreamDecryptor(KEY, MANIFEST)
    ct = b"".join(enc.update(DATA[i : i + 10_007]) for i in range(0, len(DATA), 10_007))
    ct += enc.finalize()
    assert len(ct) == len(CT)
    pt = b"".join(dec.update(ct[i : i + 9_001]) for i in range(0, len(ct), 9_001))
    assert pt + dec.finalize() == DATA


def test_truncation_at_segment_boundary() -> None:
    """Dropping the final segment is reported as truncation."""
    segs = _segments(CT)
    with pytest.raises(TruncatedError):
        decrypt_document(KEY, MANIFEST, b"".join(segs[:-1]))
    with pytest.raises(TruncatedError):
        decrypt_document(KEY, MANIFEST, b"")


def test_reordered_dropped_and_swapped_segments() -> None:
    """Reordering, dropping a middle segment or mixing documents all fail authentication."""
    segs = _segments(CT)
    with pytest.raises(DecryptionError):
        decrypt_document(KEY, MANIFEST, b"".join([segs[1], segs[0], *segs[2:]]))
    with pytest.raises(DecryptionError):
        decrypt_document(KEY, MANIFEST, b"".join([segs[0], *segs[2:]]))
    other = create_manifest(
        doc_key=KEY,
        signing_key=SIGNER,
        group_id=MANIFEST.group_id,
        document_id=uuid.uuid4(),
        version=1,
        uploader_device_id=MANIFEST.uploader_device_id,
        ts=T0,
        name="x",
        media_type="text/plain",
        nonce_prefix=MANIFEST.nonce_prefix,
    )
    with pytest.raises(DecryptionError):
        decrypt_document(KEY, other, CT)


def test_forged_manifest() -> None:
    """A manifest not signed by the uploader is refused."""
    with pytest.raises(SignatureError):
        verify_manifest(MANIFEST, public_bytes(new_signing_key()))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, len(CT) - 1), st.integers(0, 7))
def test_any_bit_flip_fails(pos: int, bit: int) -> None:
    """Flipping any ciphertext bit fails; a fresh decryptor still opens the original."""
    bad = bytearray(CT)
    bad[pos] ^= 1 << bit
    with pytest.raises(CryptoError):
        decrypt_document(KEY, MANIFEST, bytes(bad))
    assert decrypt_document(KEY, MANIFEST, CT) == DATA
