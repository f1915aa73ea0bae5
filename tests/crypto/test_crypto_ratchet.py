"""Sender-key chains: derivation, skipping, replay and rotation rules."""

from __future__ import annotations

import hmac
import uuid

import pytest
from cordon_client._crypto import ReceiverChain, SenderChain
from cordon_client._crypto.ratchet import MAX_SKIP, ROTATE_AFTER_MS, chain_step
from cordon_client.exceptions import KeyUnavailableError, ReplayError

from .helpers import T0


def _pair() -> tuple[SenderChain, ReceiverChain]:
    s = SenderChain.new(uuid.uuid4(), T0, 3)
    return s, ReceiverChain.from_distribution(s.distribution(), s.owner_device_id, 3)


def test_chain_step_formula() -> None:
    """MK_i = HMAC(CK_i, 0x01) and CK_{i+1} = HMAC(CK_i, 0x02)."""
    ck = bytes(32)
    mk, nxt = chain_step(ck)
    assert mk == hmac.digest(ck, b"\x01", "sha256")
    assert nxt == hmac.digest(ck, b"\x02", "sha256")


def test_in_order_and_out_of_order() -> None:
    """Receivers derive the same keys in any order within the skip bound."""
    s, r = _pair()
    keys = [s.next_key() for _ in range(5)]
    for idx in (3, 0, 4, 1, 2):
        p = r.derive(idx)
        assert (p.key, p.nonce) == keys[idx][1:]
        r.commit(p)
    assert not r.skipped


def test_used_keys_are_deleted_and_replay_fails() -> None:
    """A committed index cannot be derived again."""
    s, r = _pair()
    s.next_key()
    r.commit(r.derive(0))
    with pytest.raises(ReplayError):
        r.derive(0)


def test_skip_bound() -> None:
    """Jumping more than 2,000 steps ahead is refused and leaves state unchanged."""
    _, r = _pair()
    with pytest.raises(KeyUnavailableError):
        r.derive(MAX_SKIP + 1)
    assert r.next_index == 0
    r.commit(r.derive(MAX_SKIP))
    assert len(r.skipped) == MAX_SKIP


def test_rotation_rule() -> None:
    """Rotate after a removal, after 7 days or after 10,000 messages."""
    s, _ = _pair()
    assert not s.needs_rotation(now_ms=T0 + 1, last_removal_seq=3)
    assert s.needs_rotation(now_ms=T0 + 1, last_removal_seq=4)
    assert s.needs_rotation(now_ms=T0 + ROTATE_AFTER_MS, last_removal_seq=0)
    s.index = 10_000
    assert s.needs_rotation(now_ms=T0 + 1, last_removal_seq=0)


def test_serialisation_round_trip() -> None:
    """Chains survive the keystore encoding, including skipped keys."""
    s, r = _pair()
    for _ in range(3):
        s.next_key()
    r.commit(r.derive(2))
    assert ReceiverChain.from_bytes(r.to_bytes()) == r
    assert SenderChain.from_bytes(s.to_bytes()) == s
    assert "chain_key" not in repr(s) or repr(s.chain_key) not in repr(s)
