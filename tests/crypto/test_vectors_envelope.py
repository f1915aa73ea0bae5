"""The v2 wire formats against their checked-in known-answer vectors (envelope_v2.json, from
scripts/vectors_envelope.py): what a second implementation must reproduce byte for byte."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cordon_client import wire
from cordon_client.crypto import ReceiverChain, public_bytes, signing_key_from_seed
from cordon_client.crypto.envelope import SUITE, decrypt_body, open_wrap
from cordon_client.wire import Labels, MessageRef
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.crypto.hpke_reference import seal_base

V: dict[str, Any] = json.loads((Path(__file__).parent / "vectors" / "envelope_v2.json").read_text())
SENDER_KEY = public_bytes(signing_key_from_seed(bytes.fromhex(V["sender_device_seed"])))


def _labels(raw: dict[str, Any]) -> Labels:
    def ref(pair: list[str] | None) -> MessageRef | None:
        return MessageRef(uuid.UUID(pair[0]), uuid.UUID(pair[1])) if pair else None

    return Labels(
        urgent=raw["urgent"],
        reply_to=ref(raw["reply_to"]),
        review_of=ref(raw["review_of"]),
        roles=tuple((uuid.UUID(u), r) for u, r in raw["roles"]),
        category=raw["category"],
    )


@pytest.mark.parametrize("v", V["envelopes"], ids=lambda v: v["name"])
def test_envelope_per_content_type(v: dict[str, Any]) -> None:
    """Each envelope parses, carries its signed labels, verifies, and opens to its content;
    its header is exactly what `encode_header` lays out for those fields."""
    env = wire.parse_envelope(bytes.fromhex(v["envelope"]))
    h = env.header
    assert (h.kind, h.content_type, str(h.group_id)) == (
        v["kind"],
        v["content_type"],
        V["group_id"],
    )
    assert h.labels == _labels(v["labels"])
    assert (
        wire.encode_header(
            kind=h.kind,
            content_type=h.content_type,
            group_id=h.group_id,
            epoch_id=bytes.fromhex(V["epoch_id"]),
            sender_device_id=h.sender_device_id,
            message_id=h.message_id,
            ts=h.ts,
            recipients=h.recipients,
            labels=_labels(v["labels"]),
        )
        == h.raw
    )
    assert wire.verify_ed25519(SENDER_KEY, env.signature, env.signing_input())
    if v["kind"] == wire.BROADCAST:
        chain_id, index = env.broadcast_position()
        chain = ReceiverChain(
            chain_id, h.sender_device_id, index, bytes.fromhex(v["chain_key_at_index_3"]), 0, 0
        )
        pending = chain.derive(index)
        assert decrypt_body(env, pending.key, pending.nonce).hex() == v["content"]
        return
    assert "header" not in v or v["header"] == h.raw.hex()
    for w in v["wraps"]:
        private = X25519PrivateKey.from_private_bytes(bytes.fromhex(w["prekey_private"]))
        keys = {(w["prekey_type"], w["prekey_id"]): private}
        key = open_wrap(env, uuid.UUID(w["device_id"]), lambda t, i, k=keys: k.get((t, i)))
        assert key.hex() == v["content_key"]
        assert decrypt_body(env, key).hex() == v["content"]


@pytest.mark.parametrize(
    "v", [v for v in V["envelopes"] if v["kind"] == wire.TARGETED], ids=lambda v: v["name"]
)
def test_wrap_hpke_intermediate_values(v: dict[str, Any]) -> None:
    """Every wrap is RFC 9180 SealBase with the recorded ephemeral key: the reference gives the
    recorded intermediate values and the 85 wrap bytes; `cryptography` opens it."""
    env = wire.parse_envelope(bytes.fromhex(v["envelope"]))
    for w in v["wraps"]:
        device = uuid.UUID(w["device_id"])
        info = wire.wrap_info(wire.sha256(env.header.raw), device, w["prekey_type"], w["prekey_id"])
        assert info.hex() == w["info"]
        private = X25519PrivateKey.from_private_bytes(bytes.fromhex(w["prekey_private"]))
        ephemeral = X25519PrivateKey.from_private_bytes(bytes.fromhex(w["ephemeral_private"]))
        trace = seal_base(private.public_key(), ephemeral, info, bytes.fromhex(v["content_key"]))
        assert trace.as_hex() == {k: w[k] for k in trace.as_hex()}
        wrap = env.wrap_for(device)
        assert wrap == wire.Wrap(w["prekey_type"], w["prekey_id"], trace.enc, trace.ct)
        assert len(wrap.to_bytes()) == wire.WRAP_SIZE == 85
        assert SUITE.decrypt(wrap.enc + wrap.ct, private, info=info).hex() == v["content_key"]


@pytest.mark.parametrize("v", V["negative_envelopes"], ids=lambda v: v["name"])
def test_negative_envelopes(v: dict[str, Any]) -> None:
    """A tampered envelope is refused with exactly the recorded error (or parses and then
    fails its signature)."""
    data = bytes.fromhex(v["envelope"])
    if v["error"] == "signature":
        env = wire.parse_envelope(data)
        assert not wire.verify_ed25519(SENDER_KEY, env.signature, env.signing_input())
    else:
        with pytest.raises(wire.WireFormatError) as refused:
            wire.parse_envelope(data)
        assert str(refused.value) == v["error"]


def test_canonical_json() -> None:
    """Canonical bytes of each input; refusals of numbers beyond ±(2^53−1), fractions, lone
    surrogates, and of non-canonical, duplicate-key or NaN input."""
    cj = V["canonical_json"]
    for v in cj["positive"]:
        canon = bytes.fromhex(v["canonical_hex"])
        assert wire.canonical_json(json.loads(v["input"])) == canon
        assert wire.canonical_json(wire.parse_canonical_json(canon)) == canon
    for v in cj["encode_negative"]:
        with pytest.raises(wire.WireFormatError, match=None) as refused:
            wire.canonical_json(json.loads(v["input"]))
        assert str(refused.value) == v["error"]
    for v in cj["parse_negative"]:
        with pytest.raises(wire.WireFormatError) as refused:
            wire.parse_canonical_json(v["input"].encode())
        assert str(refused.value) == v["error"]
    assert len(cj["encode_negative"]) == 5 and len(cj["parse_negative"]) == 5


def test_padding() -> None:
    """Bucket sizes at their edges; refused fills and lengths."""
    for v in V["padding"]["positive"]:
        padded = wire.pad(bytes(v["content_length"]))
        assert (len(padded), padded[:8].hex()) == (v["padded_size"], v["first_bytes"])
        assert wire.unpad(padded) == bytes(v["content_length"])
    for v in V["padding"]["negative"]:
        with pytest.raises(wire.WireFormatError) as refused:
            wire.unpad(bytes.fromhex(v["padded"]))
        assert str(refused.value) == v["error"]


def test_signed_receipt() -> None:
    """The receipt's signing input and signature; a changed status, item or device fails."""
    r = V["receipt"]
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(r["device_public"]))
    signed = wire.receipt_signing_input(
        group_id=uuid.UUID(r["group_id"]),
        item=MessageRef(uuid.UUID(r["item"][0]), uuid.UUID(r["item"][1])),
        device_id=uuid.UUID(r["device_id"]),
        status=r["status"],
        ts=r["ts"],
    )
    assert signed.hex() == r["signing_input"]
    key.verify(bytes.fromhex(r["sig"]), signed)
    raw_key = bytes.fromhex(r["device_public"])
    for v in r["negative"]:
        assert v["verifies"] is False
        assert not wire.verify_ed25519(
            raw_key, bytes.fromhex(r["sig"]), bytes.fromhex(v["signing_input"])
        )
    with pytest.raises(wire.WireFormatError):
        wire.receipt_signing_input(
            group_id=uuid.UUID(r["group_id"]),
            item=MessageRef(uuid.UUID(r["item"][0]), uuid.UUID(r["item"][1])),
            device_id=uuid.UUID(r["device_id"]),
            status="seen",
            ts=r["ts"],
        )


def test_routing_copy_checks() -> None:
    """`routing_mismatch` gives exactly the recorded answer for each copy."""
    headers = {
        v["name"]: wire.parse_envelope(bytes.fromhex(v["envelope"])).header for v in V["envelopes"]
    }
    for v in V["routing"]:
        parent = MessageRef(*(uuid.UUID(x) for x in v["parent"])) if v["parent"] else None
        got = wire.routing_mismatch(
            headers[v["envelope"]],
            kind=v["kind"],
            urgent=v["urgent"],
            parent=parent,
            has_parent=v["has_parent"],
        )
        assert got == v["problem"]
    assert sum(v["problem"] is not None for v in V["routing"]) == 5
