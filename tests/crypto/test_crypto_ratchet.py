"""Sender-key chains: derivation, skipping, replay and rotation rules."""

from __future__ import annotations

import hmac
import uuid

import pytest
from cordon_client.crypto import ReceiverChain, SenderChain
from cordon_client.crypto.ratchet import (
    MAX_SKIP,
    MAX_SKIPPED,
    ROTATE_AFTER_MS,
    SKIPPED_MAX_AGE_MS,
    chain_step,
)
from cordon_client.exceptions import KeyUnavailableError, ReplayError, SkippedKeyDroppedError

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


def _skipped_chain(ahead: int, now: int) -> tuple[SenderChain, ReceiverChain, list]:
    s, r = _pair()
    keys = [s.next_key() for _ in range(ahead + 1)]
    r.commit(r.derive(ahead, now))
    return s, r, keys


def test_skipped_keys_are_bounded_in_count_oldest_dropped_first() -> None:
    """Past 2,000 kept keys the lowest indices go first, and a message there fails as
    dropped with SkippedKeyDroppedError, not as a replay; newer skipped keys still open."""
    s, r, keys = _skipped_chain(MAX_SKIP, T0)
    assert len(r.skipped) == MAX_SKIPPED
    keys += [s.next_key() for _ in range(500)]
    r.commit(r.derive(MAX_SKIP + 500, T0))
    assert len(r.skipped) == MAX_SKIPPED
    assert min(r.skipped) == 499 and r.dropped_below == 499
    with pytest.raises(
        SkippedKeyDroppedError,
        match=r"^message index 0 on this chain: its skipped key was dropped \(at most 2000 are "
        r"kept per chain, for at most 7 days\)$",
    ):
        r.derive(0, T0)
    pending = r.derive(499, T0)
    assert (pending.key, pending.nonce) == keys[499][1:]


def test_skipped_keys_are_bounded_in_age() -> None:
    """A skipped key opens for seven days; after that it is refused and dropped."""
    _, r, keys = _skipped_chain(3, T0)
    assert (r.derive(1, T0 + SKIPPED_MAX_AGE_MS).key, r.derive(1, T0).nonce) == keys[1][1:]
    with pytest.raises(SkippedKeyDroppedError, match="^message index 1 on this chain"):
        r.derive(1, T0 + SKIPPED_MAX_AGE_MS + 1)
    assert r.evict(T0 + SKIPPED_MAX_AGE_MS + 1) == [0, 1, 2]
    assert r.skipped == {} and r.dropped_below == 3
    with pytest.raises(SkippedKeyDroppedError):
        r.derive(2, T0)


def test_a_used_key_above_the_watermark_is_a_replay() -> None:
    """Only dropped keys report as dropped: a used one stays a replay."""
    _, r, _ = _skipped_chain(3, T0)
    r.commit(r.derive(1, T0))
    with pytest.raises(ReplayError, match="already used"):
        r.derive(1, T0)


def test_skipped_keys_keep_their_age_and_the_watermark_across_restarts() -> None:
    """The keystore form carries each key's storage time and the dropped watermark."""
    _, r, _ = _skipped_chain(MAX_SKIP, T0)
    r.evict(T0)
    r.skipped.pop(0)
    r.dropped_below = 1
    again = ReceiverChain.from_bytes(r.to_bytes())
    assert again.skipped == r.skipped and again.dropped_below == 1
    assert all(ts == T0 for _, ts in again.skipped.values())
    with pytest.raises(SkippedKeyDroppedError):
        again.derive(0, T0)
