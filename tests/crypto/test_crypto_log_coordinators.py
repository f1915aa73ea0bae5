"""The coordinator keys follow every role change, removal and rotation at each entry.

The verifier caches the set between entries (roster.py); these logs fail if a change that
concerns a coordinator leaves a stale set behind, or if one that does not changes it.
"""

from __future__ import annotations

import uuid

import pytest
from cordon_client.crypto import new_signing_key, public_bytes
from cordon_client.exceptions import InjectedMemberError, UnauthorisedEntryError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.crypto.helpers import T0, Group, make_group


def _admit_by(g: Group, signer_key: Ed25519PrivateKey) -> None:
    g.writer.add_member(signer_key, uuid.uuid4(), public_bytes(new_signing_key()), "member", T0)


def test_promoted_member_signs_and_demoted_coordinator_no_longer_does() -> None:
    g = make_group(2)
    m = g.members[0]
    g.writer.set_role(g.root, m.member_id, "coordinator", T0)
    _admit_by(g, m.key)
    assert len(g.roster().members) == 3
    g.writer.set_role(g.root, m.member_id, "member", T0)
    _admit_by(g, m.key)
    with pytest.raises(InjectedMemberError, match="signer is not a coordinator key"):
        g.roster()


def test_removed_coordinator_no_longer_signs() -> None:
    g = make_group(1)
    boss = g.add_member(role="coordinator")
    _admit_by(g, boss.key)
    g.roster()
    g.writer.remove_member(g.root, boss.member_id, T0)
    g.writer.checkpoint(g.root, g.roster().digest(), T0)
    g.writer.set_role(boss.key, g.members[0].member_id, "coordinator", T0)
    with pytest.raises(UnauthorisedEntryError, match="signer is not a coordinator key"):
        g.roster()


def test_rotated_coordinator_signs_with_the_new_key_only() -> None:
    g = make_group(1)
    boss = g.add_member(role="coordinator")
    new_key = new_signing_key()
    g.writer.rotate_member_key(boss.key, boss.member_id, public_bytes(new_key), T0)
    _admit_by(g, new_key)
    assert len(g.roster().members) == 3
    _admit_by(g, boss.key)
    with pytest.raises(InjectedMemberError, match="signer is not a coordinator key"):
        g.roster()


def test_changes_to_plain_members_leave_coordinators_unchanged() -> None:
    g = make_group(3)
    boss = g.add_member(role="coordinator")
    plain = g.members[0]
    g.writer.rotate_member_key(plain.key, plain.member_id, public_bytes(new_signing_key()), T0)
    g.writer.set_role(boss.key, g.members[1].member_id, "member", T0)
    g.writer.remove_member(boss.key, g.members[2].member_id, T0)
    _admit_by(g, boss.key)
    _admit_by(g, plain.key)
    with pytest.raises(InjectedMemberError, match=r"seq \d+ \(add_member\)"):
        g.roster()
