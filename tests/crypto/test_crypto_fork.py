"""Rollback, forks and their proofs, the epoch grace window, and a device's own key."""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import LogWriter, new_signing_key, public_bytes, verify_log
from cordon_client.crypto.roster import (
    EPOCH_GRACE_ENTRIES,
    check_own_device,
    envelope_epoch_seq,
    fork_proof,
    verify_fork_proof,
)
from cordon_client.exceptions import (
    DeviceKeyMismatchError,
    EpochMismatchError,
    ForkError,
    ForkProofError,
    LogRollbackError,
    StaleEpochError,
)

from .helpers import T0, make_group


def _branch(g, key=None, at: int | None = None):  # type: ignore[no-untyped-def]
    """A coordinator-signed alternative entry after the first `at` entries."""
    entries = g.writer.entries[: len(g.writer.entries) if at is None else at]
    writer = LogWriter(g.group_id, entries)
    writer.set_role(key or g.root, g.members[0].member_id, "coordinator", T0 + 9)
    return writer.entries


def test_fork_at_the_known_head_carries_a_verifiable_proof() -> None:
    """A different signed entry at the persisted head seq is a fork with a proof."""
    g = make_group(2)
    seen = g.roster()
    g.writer.remove_member(g.root, g.members[1].member_id, T0 + 5)
    honest = g.roster()
    forked = _branch(g, at=len(honest.entries) - 1)
    with pytest.raises(ForkError, match=f"fork detected at seq {honest.head_seq}") as info:
        verify_log(g.root_key, g.group_id, forked, known_head=honest.entries[-4:])
    first, second = verify_fork_proof(g.root_key, g.group_id, info.value.proof)
    assert first.entry_hash() == honest.entries[-1].entry_hash()
    assert second.entry_hash() == forked[-1].entry_hash()
    verify_log(g.root_key, g.group_id, g.writer.entries, known_head=seen.entries[-2:])


def test_fork_below_the_head_is_found_in_the_persisted_tail() -> None:
    """When the device moved on along one branch, the divergence seq is still named."""
    g = make_group(3)
    split = len(g.writer.entries)
    forked = _branch(g)
    g.add_member()
    with pytest.raises(ForkError, match=f"fork detected at seq {split}") as info:
        verify_log(g.root_key, g.group_id, forked + [], known_head=g.roster().entries[-8:])
    assert info.value.seq == split
    verify_fork_proof(g.root_key, g.group_id, info.value.proof)


def test_rollback_names_both_seqs() -> None:
    """A shorter log than the persisted head is refused with both seqs in the message."""
    g = make_group(2)
    known = g.roster().entries[-3:]
    served = g.writer.entries[:-2]
    with pytest.raises(
        LogRollbackError, match=f"ends at seq {len(served) - 1}.*seq {known[-1].seq}"
    ):
        verify_log(g.root_key, g.group_id, served, known_head=known)


def test_forged_fork_proof_signed_by_an_unauthorised_key_is_refused() -> None:
    """A member key cannot manufacture a 'coordinator fork': the second entry must be
    authorised at that point of the verified prefix."""
    g = make_group(2)
    honest = g.writer.entries
    forged = _branch(g, key=g.members[1].key, at=len(honest) - 1)[-1]
    proof = fork_proof(honest[:-1], honest[-1], forged)
    with pytest.raises(
        ForkProofError, match="entry 2 at seq .* does not extend the verified prefix"
    ):
        verify_fork_proof(g.root_key, g.group_id, proof)


def test_forged_fork_proof_by_an_outside_key_or_bad_prefix_is_refused() -> None:
    """A stranger's signature, a tampered prefix, another root: each named."""
    g = make_group(2)
    honest = g.writer.entries
    stranger = _branch(g, key=new_signing_key(), at=len(honest) - 1)[-1]
    with pytest.raises(ForkProofError, match="entry 2 .* signer is not a coordinator key"):
        verify_fork_proof(g.root_key, g.group_id, fork_proof(honest[:-1], honest[-1], stranger))
    real = fork_proof(honest[:-1], honest[-1], _branch(g, at=len(honest) - 1)[-1])
    verify_fork_proof(g.root_key, g.group_id, real)
    bad_prefix = {**real, "prefix": real["prefix"][:1] + real["prefix"][2:]}  # type: ignore[index]
    with pytest.raises(ForkProofError):
        verify_fork_proof(g.root_key, g.group_id, bad_prefix)
    with pytest.raises(ForkProofError, match="prefix does not verify"):
        verify_fork_proof(public_bytes(new_signing_key()), g.group_id, real)
    with pytest.raises(ForkProofError, match="another group"):
        verify_fork_proof(g.root_key, uuid.uuid4(), real)
    with pytest.raises(ForkProofError, match="fields must be exactly"):
        verify_fork_proof(g.root_key, g.group_id, {"entries": []})


def test_epoch_grace_window() -> None:
    """The head and recent heads pass; too old, before a removal, or unknown are refused."""
    g = make_group(2)
    old = g.roster()
    for _ in range(EPOCH_GRACE_ENTRIES // 2):
        g.add_member(devices=1)
    roster = g.roster()
    assert envelope_epoch_seq(roster, roster.epoch_id) == roster.head_seq
    assert envelope_epoch_seq(roster, old.epoch_id) == old.head_seq
    for _ in range(EPOCH_GRACE_ENTRIES // 2):
        g.add_member(devices=0)
    lagging = g.roster()
    with pytest.raises(StaleEpochError, match="entries behind the verified head"):
        envelope_epoch_seq(lagging, old.epoch_id)
    recent = lagging.entries[-2].entry_hash()
    g.writer.remove_member(g.root, g.members[0].member_id, T0 + 1)
    after = g.roster()
    with pytest.raises(StaleEpochError, match=f"before the removal at seq {after.head_seq}"):
        envelope_epoch_seq(after, recent)
    with pytest.raises(EpochMismatchError, match="not in this device's verified log"):
        envelope_epoch_seq(after, b"\x01" * 32)


def test_a_log_certifying_another_key_for_this_device_is_refused() -> None:
    """A device refuses a log that certifies someone else's key under its own id."""
    g = make_group(1)
    member = g.members[0]
    mine = new_signing_key()
    device = uuid.uuid4()
    g.writer.add_device(member.key, member.member_id, device, public_bytes(new_signing_key()), T0)
    roster = g.roster()
    with pytest.raises(
        DeviceKeyMismatchError, match=f"certifies key .* for this device \\({device}\\)"
    ):
        check_own_device(roster, device, public_bytes(mine))
    real = next(iter(member.devices))
    check_own_device(roster, real, public_bytes(member.devices[real]))
