"""The signed membership log: roster derivation and every tamper case."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
from cordon_client.crypto import (
    LogEntry,
    LogWriter,
    detect_fork,
    new_signing_key,
    public_bytes,
    sign_entry,
    verify_fork_proof,
    verify_log,
)
from cordon_client.exceptions import (
    CryptoError,
    ForkError,
    ForkProofError,
    InjectedDeviceError,
    InjectedMemberError,
    LogChainError,
    LogError,
    LogGapError,
    LogOrderError,
    LogRollbackError,
    LogRootError,
    UnauthorisedEntryError,
    UnsupportedVersionError,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from .helpers import T0, make_group


def test_roster_from_valid_log() -> None:
    """Members, roles, member keys and certified devices come out of the log."""
    g = make_group(3, devices_per_member=2)
    roster = g.roster()
    assert len(roster.members) == 3 and len(roster.devices()) == 6
    m = g.members[0]
    assert roster.members[m.member_id].member_key == public_bytes(m.key)
    did = next(iter(m.devices))
    assert roster.device(did) is not None
    assert roster.epoch_id == g.writer.entries[-1].entry_hash()


def test_injected_member_by_unauthorised_signer() -> None:
    """An add_member signed by a non-coordinator key is reported as an injected member."""
    g = make_group(2)
    intruder = new_signing_key()
    g.writer.add_member(intruder, uuid.uuid4(), public_bytes(intruder), "member", T0)
    with pytest.raises(InjectedMemberError, match="not a coordinator"):
        g.roster()


def test_injected_member_with_forged_signature() -> None:
    """An add_member claiming the root as signer but with a bad signature is rejected."""
    g = make_group(1)
    entry = g.writer.add_member(g.root, uuid.uuid4(), public_bytes(new_signing_key()), "member", T0)
    g.writer.entries[-1] = dataclasses.replace(entry, sig=bytes(64))
    with pytest.raises(InjectedMemberError, match="signature"):
        g.roster()


def test_plain_member_cannot_add_members() -> None:
    """Only coordinator-role members (or the root) may sign coordinator ops."""
    g = make_group(1)
    member = g.members[0]
    g.writer.add_member(member.key, uuid.uuid4(), public_bytes(new_signing_key()), "member", T0)
    with pytest.raises(InjectedMemberError):
        g.roster()
    g2 = make_group(0)
    boss = g2.add_member(role="coordinator")
    g2.writer.add_member(boss.key, uuid.uuid4(), public_bytes(new_signing_key()), "member", T0)
    assert len(g2.roster().members) == 2


def test_injected_device() -> None:
    """A device certified by a key other than its member's is an injected device."""
    g = make_group(2)
    m = g.members[0]
    g.writer.add_device(g.root, m.member_id, uuid.uuid4(), public_bytes(new_signing_key()), T0)
    with pytest.raises(InjectedDeviceError):
        g.roster()


def test_dropped_entry() -> None:
    """Removing an entry from the middle is a seq gap."""
    g = make_group(3)
    entries = g.writer.entries
    with pytest.raises(LogGapError, match="dropped"):
        verify_log(g.root_key, g.group_id, entries[:2] + entries[3:])


def test_reordered_entries() -> None:
    """Swapping two entries is reported as reordering."""
    g = make_group(3)
    e = list(g.writer.entries)
    e[2], e[3] = e[3], e[2]
    with pytest.raises(LogOrderError, match="reordered"):
        verify_log(g.root_key, g.group_id, e)


def test_prev_mismatch() -> None:
    """An entry re-signed with the right seq but a wrong prev breaks the chain."""
    g = make_group(2)
    last = g.writer.entries[-1]
    forged = sign_entry(
        g.members[-1].key,
        group_id=g.group_id,
        seq=last.seq,
        prev=bytes(32),
        ts=last.ts,
        op=last.op,
        body=last.body,
    )
    with pytest.raises(LogChainError):
        verify_log(g.root_key, g.group_id, g.writer.entries[:-1] + [forged])


def test_wrong_root() -> None:
    """A log that does not start at the pinned coordinator key is refused."""
    g = make_group(1)
    with pytest.raises(LogRootError):
        verify_log(public_bytes(new_signing_key()), g.group_id, g.writer.entries)


def _fork(
    g_entries: list[LogEntry], group_id: uuid.UUID, key: Ed25519PrivateKey
) -> tuple[list[LogEntry], list[LogEntry]]:
    a, b = LogWriter(group_id, g_entries), LogWriter(group_id, g_entries)
    a.remove_member(key, uuid.UUID(g_entries[1].body["member_id"]), T0 + 5)
    b.set_role(key, uuid.UUID(g_entries[1].body["member_id"]), "coordinator", T0 + 5)
    return a.entries, b.entries


def test_fork_between_two_clients() -> None:
    """Two verified views with different entries at one seq prove a fork, with evidence."""
    g = make_group(2)
    a_entries, b_entries = _fork(g.writer.entries, g.group_id, g.root)
    view_a = verify_log(g.root_key, g.group_id, a_entries)
    view_b = verify_log(g.root_key, g.group_id, b_entries)
    with pytest.raises(ForkError) as info:
        detect_fork(view_a, view_b)
    assert info.value.seq == len(g.writer.entries)
    assert info.value.evidence is not None
    first, second = info.value.evidence
    assert isinstance(first, LogEntry) and isinstance(second, LogEntry)
    assert info.value.proof is not None
    assert verify_fork_proof(g.root_key, g.group_id, info.value.proof) == (first, second)
    same = {**info.value.proof, "entries": [first.to_json(), first.to_json()]}
    with pytest.raises(ForkProofError, match="both entries at seq .* are the same entry"):
        verify_fork_proof(g.root_key, g.group_id, same)


def test_fork_inside_one_list() -> None:
    """Two validly signed entries with one seq in a single served list are a fork."""
    g = make_group(2)
    a_entries, b_entries = _fork(g.writer.entries, g.group_id, g.root)
    with pytest.raises(ForkError):
        verify_log(g.root_key, g.group_id, a_entries + [b_entries[-1]])


def test_prefix_views_are_not_a_fork() -> None:
    """A view that extends another is consistent."""
    g = make_group(2)
    old = g.roster()
    g.add_member()
    detect_fork(old, g.roster())


def test_known_head_rollback_and_fork() -> None:
    """Serving a shorter log or a different entry at a seen head is detected."""
    g = make_group(3)
    seen = g.roster()
    known = seen.entries[-4:]
    with pytest.raises(
        LogRollbackError, match=f"ends at seq {seen.head_seq - 1}.*seq {seen.head_seq}"
    ):
        verify_log(g.root_key, g.group_id, g.writer.entries[:-1], known_head=known)
    _, b_entries = _fork(g.writer.entries[:-1], g.group_id, g.root)
    with pytest.raises(ForkError, match=f"fork detected at seq {seen.head_seq}") as info:
        verify_log(g.root_key, g.group_id, b_entries, known_head=known)
    assert info.value.proof is not None
    verify_fork_proof(g.root_key, g.group_id, info.value.proof)


def test_removal_revocation_and_rotation_ops() -> None:
    """remove_member, revoke_device (by coordinator) and rotate_member_key update the roster."""
    g = make_group(3)
    m0, m1, m2 = g.members
    g.writer.remove_member(g.root, m0.member_id, T0)
    g.writer.revoke_device(g.root, m1.member_id, next(iter(m1.devices)), T0)
    new_key = new_signing_key()
    g.writer.rotate_member_key(m2.key, m2.member_id, public_bytes(new_key), T0)
    g.writer.grant_history(g.root, m2.member_id, T0)
    roster = g.roster()
    g.writer.checkpoint(g.root, roster.digest(), T0)
    roster = g.roster()
    assert m0.member_id not in roster.members
    assert not roster.members[m1.member_id].devices
    assert roster.members[m2.member_id].member_key == public_bytes(new_key)
    assert "library" in roster.members[m2.member_id].history_scopes
    assert len(roster.removal_seqs) == 2
    g.writer.add_device(m2.key, m2.member_id, uuid.uuid4(), public_bytes(new_signing_key()), T0)
    with pytest.raises(InjectedDeviceError):
        g.roster()


def test_bad_checkpoint() -> None:
    """A checkpoint that does not match the computed roster is refused."""
    g = make_group(1)
    g.writer.checkpoint(g.root, bytes(32), T0)
    with pytest.raises(LogError, match="checkpoint"):
        g.roster()


def test_revoked_device_cannot_be_readded() -> None:
    """A revoked device id cannot come back."""
    g = make_group(1)
    m = g.members[0]
    did = next(iter(m.devices))
    g.writer.revoke_device(m.key, m.member_id, did, T0)
    g.writer.add_device(m.key, m.member_id, did, public_bytes(new_signing_key()), T0)
    with pytest.raises(InjectedDeviceError):
        g.roster()


def test_json_round_trip_and_unknown_version() -> None:
    """Entries survive JSON; an unknown version is UnsupportedVersionError."""
    g = make_group(2)
    parsed = [LogEntry.from_json(json.loads(json.dumps(e.to_json()))) for e in g.writer.entries]
    assert verify_log(g.root_key, g.group_id, parsed).epoch_id == g.roster().epoch_id
    bad = {**g.writer.entries[0].to_json(), "v": 1}
    with pytest.raises(UnsupportedVersionError):
        LogEntry.from_json(bad)


def test_unauthorised_set_role() -> None:
    """A member cannot promote itself."""
    g = make_group(1)
    g.writer.set_role(g.members[0].key, g.members[0].member_id, "coordinator", T0)
    with pytest.raises(UnauthorisedEntryError):
        g.roster()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_bit_flip_in_an_entry_is_rejected(data: st.DataObject) -> None:
    """Flipping any bit of any serialised entry makes verification fail with a CryptoError."""
    g = make_group(2)
    idx = data.draw(st.integers(0, len(g.writer.entries) - 1))
    raw = bytearray(json.dumps(g.writer.entries[idx].to_json()).encode())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    entries = list(g.writer.entries)
    try:
        entries[idx] = LogEntry.from_json(json.loads(raw))
    except (ValueError, CryptoError):
        return
    if entries[idx] == g.writer.entries[idx]:
        return
    with pytest.raises(CryptoError):
        verify_log(g.root_key, g.group_id, entries)
