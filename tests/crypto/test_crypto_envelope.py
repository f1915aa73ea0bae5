"""Envelopes: layout, round trips, and rejection of every tampering without state poisoning."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import ContentType, Kind, parse_routing_header
from cordon_client.crypto.envelope import HEADER_FIXED, MIN_BUCKET, pad, unpad
from cordon_client.exceptions import (
    CryptoError,
    EpochMismatchError,
    KeyUnavailableError,
    MalformedError,
    ReplayError,
    UnsupportedVersionError,
    UntrustedSenderError,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import T0, Group, make_group


def _setup() -> tuple[Group, object, object]:
    g = make_group(3)
    a_id, b_id = g.device_ids()[:2]
    a, b = g.session(a_id), g.session(b_id)
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    return g, a, b


G, A, B = _setup()


def _fresh() -> tuple[object, object]:
    """A sender/receiver pair sharing a chain (fast: reuses the module group)."""
    a_id, b_id = G.device_ids()[:2]
    a, b = G.session(a_id), G.session(b_id)
    b.decrypt(a.rotate_sender_chain(G.recipients(a), now_ms=T0 + 1))
    return a, b


def test_targeted_round_trip_and_header() -> None:
    """A targeted envelope opens for each recipient; the header shows only routing data."""
    a, b = _fresh()
    env = a.encrypt_targeted(
        ContentType.PRENOTIFICATION, b"vaccines", G.recipients(a), now_ms=T0 + 2
    )
    h = parse_routing_header(env)
    assert h.kind == Kind.TARGETED and h.sender_device_id == a.device_id
    assert b.device_id in h.recipients and h.group_id == G.group_id
    assert b"vaccines" not in env
    got = b.decrypt(env)
    assert got.content == b"vaccines" and got.content_type == ContentType.PRENOTIFICATION


def test_broadcast_round_trip_and_whole_group() -> None:
    """A broadcast names no recipients and opens on the chain's receivers."""
    a, b = _fresh()
    env = a.encrypt_broadcast(ContentType.ALERT, b"seizure at gate 4", now_ms=T0 + 2)
    assert parse_routing_header(env).whole_group
    assert b.decrypt(env).content == b"seizure at gate 4"


def test_padding_buckets() -> None:
    """Padded sizes are powers of two from 256 B, then 64 KiB multiples."""
    assert len(pad(b"")) == MIN_BUCKET
    assert len(pad(b"x" * 253)) == 512
    assert len(pad(b"x" * 40_000)) == 65_536
    assert len(pad(b"x" * 70_000)) == 131_072
    assert unpad(pad(b"abc")) == b"abc"


def test_sizes_hidden_within_bucket() -> None:
    """Two messages of different length in one bucket give same-size envelopes."""
    a, _ = _fresh()
    e1 = a.encrypt_broadcast(ContentType.MESSAGE, b"a", now_ms=T0 + 2)
    e2 = a.encrypt_broadcast(ContentType.MESSAGE, b"a" * 200, now_ms=T0 + 2)
    assert len(e1) == len(e2)


def test_unknown_version_and_garbage() -> None:
    """Unknown versions and structurally invalid input are refused before any crypto."""
    a, b = _fresh()
    env = bytearray(a.encrypt_broadcast(ContentType.MESSAGE, b"x", now_ms=T0 + 2))
    env[3] = 1
    with pytest.raises(UnsupportedVersionError):
        parse_routing_header(bytes(env))
    with pytest.raises(UnsupportedVersionError):
        b.decrypt(bytes(env))
    for junk in (b"", b"CXM", bytes(200), b"CXM\x02" + bytes(400)):
        with pytest.raises(MalformedError):
            parse_routing_header(junk)


def test_replay_rejected_then_valid_still_works() -> None:
    """Replaying a targeted or broadcast envelope fails; the next valid one decrypts."""
    a, b = _fresh()
    t = a.encrypt_targeted(ContentType.MESSAGE, b"t", G.recipients(a), now_ms=T0 + 2)
    bc = a.encrypt_broadcast(ContentType.MESSAGE, b"b", now_ms=T0 + 2)
    b.decrypt(t)
    b.decrypt(bc)
    for env in (t, bc):
        with pytest.raises(ReplayError):
            b.decrypt(env)
    fresh = a.encrypt_broadcast(ContentType.MESSAGE, b"ok", now_ms=T0 + 3)
    assert b.decrypt(fresh).content == b"ok"


def test_same_index_new_message_id_is_a_replay() -> None:
    """Re-sending a used chain index under a new message id is still rejected by the ratchet."""
    a, b = _fresh()
    env = a.encrypt_broadcast(ContentType.MESSAGE, b"b", now_ms=T0 + 2)
    b.decrypt(env)
    b._seen.clear()
    with pytest.raises(ReplayError):
        b.decrypt(env)


def test_unknown_epoch_asks_for_refresh() -> None:
    """An envelope naming an unknown roster head raises EpochMismatchError."""
    g = make_group(2)
    a, b = (g.session(d) for d in g.device_ids())
    b.decrypt(a.rotate_sender_chain(g.recipients(a), now_ms=T0 + 1))
    g.add_member()
    newer = g.session(a.device_id)
    newer.sender_chain = a.sender_chain
    env = newer.encrypt_broadcast(ContentType.MESSAGE, b"x", now_ms=T0 + 2)
    with pytest.raises(EpochMismatchError):
        b.decrypt(env)
    b.update_roster(g.roster())
    assert b.decrypt(env).content == b"x"


def test_non_roster_sender_and_non_recipient() -> None:
    """Senders outside the roster and envelopes not addressed to us are refused."""
    a, b = _fresh()
    other = make_group(2)
    stranger = other.session(other.device_ids()[0])
    c_id = G.device_ids()[2]
    only_c = [r for r in G.recipients(a) if r.device_id == c_id]
    with pytest.raises(KeyUnavailableError):
        b.decrypt(a.encrypt_targeted(ContentType.MESSAGE, b"x", only_c, now_ms=T0 + 2))
    foreign = stranger.encrypt_targeted(
        ContentType.MESSAGE, b"x", other.recipients(stranger), now_ms=T0 + 2
    )
    with pytest.raises(UntrustedSenderError):
        b.decrypt(foreign)


def _mutations(env: bytes, data: st.DataObject) -> bytes:
    choice = data.draw(st.sampled_from(["flip", "truncate", "extend", "splice"]))
    if choice == "flip":
        pos = data.draw(st.integers(0, len(env) - 1))
        out = bytearray(env)
        out[pos] ^= 1 << data.draw(st.integers(0, 7))
        return bytes(out)
    if choice == "truncate":
        return env[: data.draw(st.integers(0, len(env) - 1))]
    if choice == "extend":
        return env + data.draw(st.binary(min_size=1, max_size=8))
    start = data.draw(st.integers(0, len(env) - 2))
    end = data.draw(st.integers(start + 1, min(len(env), start + 32)))
    filler = b"\x01" if not any(env[start:end]) else b"\x00"
    return env[:start] + filler * (end - start) + env[end:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_any_tampering_is_rejected_without_poisoning(data: st.DataObject, broadcast: bool) -> None:
    """Flipped bits, truncation, extension or overwritten fields fail; the original still opens."""
    a, b = A, B
    if broadcast:
        env = a.encrypt_broadcast(ContentType.MESSAGE, b"payload", now_ms=T0 + 2)
    else:
        recips = [r for r in G.recipients(a) if r.device_id == b.device_id]
        env = a.encrypt_targeted(ContentType.MESSAGE, b"payload", recips, now_ms=T0 + 2)
    bad = _mutations(env, data)
    if bad != env:
        with pytest.raises(CryptoError):
            b.decrypt(bad)
    assert b.decrypt(env).content == b"payload"


def test_swapped_fields_between_envelopes() -> None:
    """Moving a ciphertext or keying section onto another envelope's header is rejected."""
    a, b = _fresh()
    recips = G.recipients(a)
    e1 = a.encrypt_targeted(ContentType.MESSAGE, b"one", recips, now_ms=T0 + 2)
    e2 = a.encrypt_targeted(ContentType.MESSAGE, b"two", recips, now_ms=T0 + 2)
    hlen = HEADER_FIXED + 16 * len(recips)
    swapped_header = e2[:hlen] + e1[hlen:]
    with pytest.raises(CryptoError):
        b.decrypt(swapped_header)
    assert b.decrypt(e1).content == b"one"
    assert b.decrypt(e2).content == b"two"


def test_wrong_message_id_uuid_type() -> None:
    """Message ids are UUIDs; sending with an explicit id keeps it in the header."""
    a, _ = _fresh()
    mid = uuid.uuid4()
    env = a.encrypt_broadcast(ContentType.MESSAGE, b"x", now_ms=T0 + 2, message_id=mid)
    assert parse_routing_header(env).message_id == mid
