"""Known-answer vectors for one-time prekeys, a wrap to one, and skipped-key bounds
(regenerate with scripts/vectors_prekeys.py; every value here is recomputed, not trusted)."""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest
from cordon_client import wire
from cordon_client.crypto import envelope
from cordon_client.crypto._encoding import encode, label
from cordon_client.crypto.keys import signing_key_from_seed
from cordon_client.crypto.prekeys import (
    OneTimePrekey,
    one_time_prekey_signing_input,
    verify_one_time_prekey,
)
from cordon_client.crypto.ratchet import ReceiverChain
from cordon_client.exceptions import CryptoError, DecryptionError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.keys import protocol
from tests.crypto.hpke_reference import seal_base

VECTORS = json.loads((Path(__file__).parent / "vectors" / "prekeys.json").read_text())
OTPK: dict[str, Any] = VECTORS["one_time_prekey"]
WRAP: dict[str, Any] = VECTORS["wrap_to_one_time_prekey"]
SKIP: dict[str, Any] = VECTORS["skipped_keys"]
H = bytes.fromhex


def test_one_time_prekey_signature_is_reproduced_from_its_seed() -> None:
    """Signing input by the spec's own rules, deterministic Ed25519, and the JSON form."""
    device_key = signing_key_from_seed(H(OTPK["device_seed"]))
    device_id = uuid.UUID(OTPK["device_id"])
    public = X25519PrivateKey.from_private_bytes(H(OTPK["prekey_private"])).public_key()
    assert public.public_bytes_raw().hex() == OTPK["public_key"]
    by_spec = (
        b"CXM/2/one-time-prekey\x00"
        + struct.pack(">I", 16)
        + device_id.bytes
        + struct.pack(">IQ", 8, OTPK["prekey_id"])
        + struct.pack(">I", 32)
        + H(OTPK["public_key"])
    )
    assert by_spec.hex() == OTPK["signing_input"]
    assert (
        one_time_prekey_signing_input(device_id, OTPK["prekey_id"], H(OTPK["public_key"]))
        == by_spec
    )
    assert device_key.sign(by_spec).hex() == OTPK["sig"]
    prekey = OneTimePrekey.from_json(OTPK["json"])
    verify_one_time_prekey(prekey, device_id, H(OTPK["device_key"]))
    protocol.parse_one_time_prekey(OTPK["json"], device_signing_key=H(OTPK["device_key"]), what="p")


@pytest.mark.parametrize("case", OTPK["negative"], ids=lambda c: c["name"])
def test_one_time_prekey_negative_vectors(case: dict[str, Any]) -> None:
    """Each tampered record fails with the recorded error class and exact message."""
    prekey = OneTimePrekey.from_json(case["json"])
    with pytest.raises(CryptoError) as caught:
        verify_one_time_prekey(prekey, uuid.UUID(case["verify_for_device"]), H(OTPK["device_key"]))
    assert (type(caught.value).__name__, caught.value.reason) == (case["error"], case["message"])
    if case["verify_for_device"] == OTPK["device_id"]:
        with pytest.raises(protocol.FormatError, match="sig: signature does not verify"):
            protocol.parse_one_time_prekey(
                case["json"], device_signing_key=H(OTPK["device_key"]), what="p"
            )


def test_wrap_to_a_one_time_prekey_with_every_hpke_intermediate() -> None:
    """The HPKE `info`, each RFC 9180 intermediate value and the 85-byte wrap; the library's
    HPKE opens the recorded wrap to the recorded content key."""
    device = uuid.UUID(WRAP["recipient_device_id"])
    header_hash = H(WRAP["header_hash"])
    assert hashlib.sha256(H(WRAP["header"])).digest() == header_hash
    info = label("wrap") + encode(header_hash, device, WRAP["prekey_type"], WRAP["prekey_id"])
    assert info.hex() == WRAP["info"]
    assert wire.wrap_info(header_hash, device, WRAP["prekey_type"], WRAP["prekey_id"]) == info
    recipient = X25519PrivateKey.from_private_bytes(H(WRAP["recipient_private"]))
    ephemeral = X25519PrivateKey.from_private_bytes(H(WRAP["ephemeral_private"]))
    trace = seal_base(recipient.public_key(), ephemeral, info, H(WRAP["content_key"]))
    for name in trace.__dataclass_fields__:
        assert getattr(trace, name).hex() == WRAP[name], name
    wrap = H(WRAP["wrap"])
    assert len(wrap) == envelope.WRAP_SIZE == 85
    assert wrap[:5] == bytes([WRAP["prekey_type"]]) + WRAP["prekey_id"].to_bytes(4, "big")
    assert wrap[5:] == trace.enc + trace.ct
    assert envelope.SUITE.decrypt(wrap[5:], recipient, info=info) == H(WRAP["content_key"])


def _open(wrap: bytes, private: X25519PrivateKey, info: bytes) -> bytes:
    """HPKE open with the spec's rule: every failure is the one DecryptionError."""
    try:
        return envelope.SUITE.decrypt(wrap[5:], private, info=info)
    except (InvalidTag, ValueError):
        raise DecryptionError("message could not be decrypted") from None


@pytest.mark.parametrize("case", WRAP["negative"], ids=lambda c: c["name"])
def test_wrap_negative_vectors(case: dict[str, Any]) -> None:
    """A wrap opened under any other type, id or device fails as one DecryptionError."""
    recipient = X25519PrivateKey.from_private_bytes(H(WRAP["recipient_private"]))
    with pytest.raises(CryptoError) as caught:
        _open(H(WRAP["wrap"]), recipient, H(case["info"]))
    assert (type(caught.value).__name__, caught.value.reason) == (case["error"], case["message"])


def _chain() -> ReceiverChain:
    return ReceiverChain(
        uuid.UUID(SKIP["chain_id"]),
        uuid.UUID(SKIP["sender_device_id"]),
        0,
        H(SKIP["chain_key_0"]),
        SKIP["created_ts"],
        SKIP["epoch_seq"],
    )


def test_skipped_key_eviction_vector() -> None:
    """After the recorded receptions the same keys are kept, dropped, opened or refused."""
    chain = _chain()
    for index in SKIP["received_indices"]:
        chain.commit(chain.derive(index, SKIP["received_at"]))
    after = SKIP["after"]
    assert chain.next_index == after["next_index"]
    assert len(chain.skipped) == after["kept"]
    assert (min(chain.skipped), max(chain.skipped)) == (after["lowest_kept"], after["highest_kept"])
    assert chain.dropped_below == after["dropped_below"]
    for check in SKIP["checks"]:
        if "error" in check:
            with pytest.raises(CryptoError) as caught:
                chain.derive(check["index"], check["now_ms"])
            got = (type(caught.value).__name__, caught.value.reason)
            assert got == (check["error"], check["message"])
        else:
            pending = chain.derive(check["index"], check["now_ms"])
            assert (pending.key.hex(), pending.nonce.hex()) == (check["key"], check["nonce"])


def test_skipped_key_record_bytes() -> None:
    """The keystore/history byte form of a receiver chain with skipped keys, both ways."""
    rec = SKIP["record"]
    chain = ReceiverChain(
        uuid.UUID(SKIP["chain_id"]),
        uuid.UUID(SKIP["sender_device_id"]),
        rec["next_index"],
        H(rec["chain_key"]),
        SKIP["created_ts"],
        SKIP["epoch_seq"],
        {int(i): (H(mk), ts) for i, (mk, ts) in rec["skipped"].items()},
        rec["dropped_below"],
    )
    assert chain.to_bytes().hex() == rec["bytes"]
    assert ReceiverChain.from_bytes(H(rec["bytes"])).to_bytes() == chain.to_bytes()
    for case in SKIP["record_negative"]:
        with pytest.raises(CryptoError) as caught:
            ReceiverChain.from_bytes(H(case["bytes"]))
        assert (type(caught.value).__name__, caught.value.reason) == (
            case["error"],
            case["message"],
        )
