"""The server's envelope mirror agrees with the client library on every field and signature."""

import os
import time
import uuid

import pytest
from cordon_client.crypto import ContentType, Recipient, SenderChain, seal_broadcast, seal_targeted
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app.keys.envelope import parse_envelope, verify_sender
from app.keys.protocol import FormatError

SENDER = Ed25519PrivateKey.generate()
SENDER_PUB = SENDER.public_key().public_bytes_raw()
GROUP, DEVICE = uuid.uuid4(), uuid.uuid4()
EPOCH = os.urandom(32)


def _targeted(n: int = 2) -> tuple[bytes, list[uuid.UUID]]:
    recipients = [
        Recipient(uuid.uuid4(), 7, X25519PrivateKey.generate().public_key()) for _ in range(n)
    ]
    data = seal_targeted(
        signing_key=SENDER,
        sender_device_id=DEVICE,
        group_id=GROUP,
        epoch_id=EPOCH,
        content_type=ContentType.PRENOTIFICATION,
        content=b"secret",
        recipients=recipients,
        ts=int(time.time() * 1000),
    )
    return data, [r.device_id for r in recipients]


def _broadcast() -> bytes:
    return seal_broadcast(
        signing_key=SENDER,
        sender_device_id=DEVICE,
        group_id=GROUP,
        epoch_id=EPOCH,
        content_type=ContentType.ALERT,
        content=b"x" * 300,
        chain=SenderChain.new(DEVICE, 1, 0),
        ts=1,
    )


TARGETED, TARGETS = _targeted()
BROADCAST = _broadcast()


def test_targeted_header_fields_and_signature():
    """Routing fields match what the client sealed, and the sender's signature verifies."""
    header = parse_envelope(TARGETED)
    assert (header.group_id, header.sender_device_id, header.epoch_id) == (GROUP, DEVICE, EPOCH)
    assert list(header.recipients) == TARGETS and header.content_name == "prenotification"
    verify_sender(header, device_signing_key=SENDER_PUB)


def test_broadcast_is_whole_group():
    """A broadcast names no recipients and verifies under its sender."""
    header = parse_envelope(BROADCAST)
    assert header.recipients == () and header.content_name == "alert"
    verify_sender(header, device_signing_key=SENDER_PUB)


def test_signature_by_another_device_is_refused():
    """An envelope claiming one device but signed by another is a forgery."""
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(FormatError, match="signature"):
        verify_sender(parse_envelope(TARGETED), device_signing_key=other)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([TARGETED, BROADCAST]), st.data())
def test_any_flipped_bit_or_cut_is_refused(envelope: bytes, data: st.DataObject):
    """A flipped bit fails the structure or the signature; truncation fails the structure."""
    pos = data.draw(st.integers(0, len(envelope) - 1))
    bit = data.draw(st.integers(0, 7))
    flipped = bytearray(envelope)
    flipped[pos] ^= 1 << bit
    with pytest.raises(FormatError):
        verify_sender(parse_envelope(bytes(flipped)), device_signing_key=SENDER_PUB)
    cut = data.draw(st.integers(0, len(envelope) - 1))
    with pytest.raises(FormatError):
        parse_envelope(envelope[:cut])
