"""Root-attested checkpoints (PROTOCOL §4.4): which signatures a client may skip, and why not
any other."""

from __future__ import annotations

import dataclasses
import re
import uuid

import pytest
from cordon_client.crypto import new_signing_key, public_bytes, verify_log
from cordon_client.crypto._encoding import b64e
from cordon_client.crypto.roster import (
    checkpoint_due,
    fork_proof,
    root_attested_prefix,
    verify_fork_proof,
)
from cordon_client.exceptions import (
    ForkProofError,
    InjectedDeviceError,
    InjectedMemberError,
    LogChainError,
    LogError,
    UnauthorisedEntryError,
)

from .helpers import T0, Group, make_group


def _forge_last(g: Group) -> int:
    """Replace the last entry's signature by garbage (as if signed by nobody); its seq."""
    last = g.writer.entries[-1]
    g.writer.entries[-1] = dataclasses.replace(last, sig=bytes(64))
    return last.seq


def _group_with_forged_device() -> tuple[Group, bytes, int]:
    """A group whose last add_device carries a forged signature; the true roster digest."""
    g = make_group(2)
    digest = g.roster().digest()
    return g, digest, _forge_last(g)


def _forged_device_refusal(seq: int) -> str:
    return re.escape(f"injected device rejected: seq {seq} (add_device): signature does not verify")


def test_forged_signature_before_a_root_checkpoint_is_accepted_only_because_root_attested() -> None:
    """Without the checkpoint the forged entry is refused; with the root's checkpoint chained
    to it, the prefix is attested and the roster is the one the root committed to."""
    g, digest, forged = _group_with_forged_device()
    with pytest.raises(InjectedDeviceError, match=_forged_device_refusal(forged)):
        g.roster()
    checkpoint = g.writer.checkpoint(g.root, digest, T0)
    assert root_attested_prefix(g.root_key, g.writer.entries) == checkpoint.seq
    roster = g.roster()
    assert roster.digest() == digest and roster.head_seq == checkpoint.seq


def test_entries_after_a_root_checkpoint_are_verified_in_full() -> None:
    """The skip ends at the checkpoint: a forged signature after it is refused."""
    g, digest, _ = _group_with_forged_device()
    g.writer.checkpoint(g.root, digest, T0)
    g.add_member()
    forged = _forge_last(g)
    with pytest.raises(InjectedDeviceError, match=_forged_device_refusal(forged)):
        g.roster()


def test_edited_entry_before_a_root_checkpoint_breaks_the_chain() -> None:
    """Editing any entry the root attested changes its hash: refused at the next entry."""
    g = make_group(3)
    g.writer.checkpoint(g.root, g.roster().digest(), T0)
    target = g.writer.entries[2]
    assert target.op == "add_device"
    edited = dict(target.body, device_key=b64e(public_bytes(new_signing_key())))
    entries = list(g.writer.entries)
    entries[2] = dataclasses.replace(target, body=edited)
    with pytest.raises(
        LogChainError, match=re.escape("entry seq 3: prev does not match the previous entry's hash")
    ):
        verify_log(g.root_key, g.group_id, entries)


def test_checkpoint_of_another_coordinator_grants_no_skip() -> None:
    """A checkpoint signed by a promoted coordinator is an ordinary entry: the forged
    signature before it is still refused."""
    g = make_group(1)
    boss = g.add_member(role="coordinator")
    g.add_member()
    digest = g.roster().digest()
    forged = _forge_last(g)
    g.writer.checkpoint(boss.key, digest, T0)
    assert root_attested_prefix(g.root_key, g.writer.entries) == 0
    with pytest.raises(InjectedDeviceError, match=_forged_device_refusal(forged)):
        g.roster()


def test_root_checkpoint_with_a_wrong_roster_hash_is_refused() -> None:
    """The root's signature must cover the roster the client derived: a different digest is
    refused, so a wrong prefix cannot ride on a root signature meant for another roster."""
    g, _, _ = _group_with_forged_device()
    cp = g.writer.checkpoint(g.root, bytes(32), T0)
    with pytest.raises(
        LogError, match=re.escape(f"seq {cp.seq}: checkpoint does not match the computed roster")
    ):
        g.roster()


def test_latest_root_checkpoint_with_a_bad_signature_is_refused_without_fallback() -> None:
    """The last root checkpoint is the one used; a forged one is refused by name even when an
    earlier genuine root checkpoint exists."""
    g = make_group(1)
    g.writer.checkpoint(g.root, g.roster().digest(), T0)
    g.add_member()
    g.writer.checkpoint(g.root, g.roster().digest(), T0)
    forged = _forge_last(g)
    with pytest.raises(
        UnauthorisedEntryError,
        match=re.escape(f"seq {forged} (checkpoint): signature does not verify"),
    ):
        g.roster()


def test_authorisation_is_checked_before_a_root_checkpoint() -> None:
    """The skipped prefix still obeys the signer rules on the derived state: an add_member
    naming a non-coordinator signer is refused even though the root attested it."""
    g = make_group(1)
    intruder = new_signing_key()
    entry = g.writer.add_member(intruder, uuid.uuid4(), public_bytes(intruder), "member", T0)
    g.writer.checkpoint(g.root, bytes(32), T0)
    with pytest.raises(
        InjectedMemberError,
        match=re.escape(
            f"injected member rejected: seq {entry.seq} (add_member): "
            "signer is not a coordinator key"
        ),
    ):
        g.roster()


def test_fork_proof_prefix_is_verified_signature_by_signature() -> None:
    """A fork proof gets no skip: a forged signature in its prefix is refused even when the
    root's checkpoint attests it."""
    g, digest, _ = _group_with_forged_device()
    g.writer.checkpoint(g.root, digest, T0)
    prefix = list(g.writer.entries)
    assert verify_log(g.root_key, g.group_id, prefix).head_seq == len(prefix) - 1
    first = g.writer.remove_member(g.root, g.members[0].member_id, T0)
    g.writer.entries.pop()
    second = g.writer.remove_member(g.root, g.members[1].member_id, T0)
    with pytest.raises(ForkProofError, match=re.escape("the prefix does not verify")):
        verify_fork_proof(g.root_key, g.group_id, fork_proof(prefix, first, second))


def test_checkpoint_due_every_interval_entries() -> None:
    """The root holder's next entry is a checkpoint at seq N, 2N, …"""
    g = make_group(1)
    assert len(g.writer.entries) == 3
    assert not checkpoint_due(g.root_key, g.writer.entries, interval=4)
    g.add_device(g.members[0])
    assert checkpoint_due(g.root_key, g.writer.entries, interval=4)
    cp = g.writer.checkpoint(g.root, g.roster().digest(), T0)
    assert cp.seq == 4
    for _ in range(2):
        g.add_device(g.members[0])
        assert not checkpoint_due(g.root_key, g.writer.entries, interval=4)
    g.add_device(g.members[0])
    assert checkpoint_due(g.root_key, g.writer.entries, interval=4)
    assert g.writer.checkpoint(g.root, g.roster().digest(), T0).seq == 8
